//! Batched datagram I/O for the threaded server driver: on Linux one `recvmmsg` fills up to
//! [`BATCH`] datagrams and one `sendmmsg` sends the answers (through `nix`'s safe wrappers);
//! elsewhere one datagram per system call.

use std::io;
use std::net::{SocketAddr, UdpSocket};

/// Datagrams per system call.
pub(crate) const BATCH: usize = 32;

/// Received datagrams: `BATCH` slots of `slot` bytes each.
pub(crate) struct RecvBatch {
    slot: usize,
    buf: Vec<u8>,
    got: Vec<(usize, SocketAddr)>,
    #[cfg(target_os = "linux")]
    headers: nix::sys::socket::MultiHeaders<nix::sys::socket::SockaddrStorage>,
}

impl RecvBatch {
    /// Slots of `slot` bytes; give one byte more than the largest accepted request so a
    /// truncated (oversized) datagram still looks oversized to the core.
    pub(crate) fn new(slot: usize) -> Self {
        let slot = slot.clamp(16, 65536);
        RecvBatch {
            slot,
            buf: vec![0; slot * BATCH],
            got: Vec::with_capacity(BATCH),
            #[cfg(target_os = "linux")]
            headers: nix::sys::socket::MultiHeaders::preallocate(BATCH, None),
        }
    }

    /// Number of datagrams from the last [`recv`](Self::recv).
    pub(crate) fn len(&self) -> usize {
        self.got.len()
    }

    /// Datagram `i` of the last receive and its sender.
    pub(crate) fn get(&self, i: usize) -> (&[u8], SocketAddr) {
        let (n, from) = self.got[i];
        let start = i * self.slot;
        (&self.buf[start..start + n], from)
    }

    /// Blocks (up to the socket's read timeout) for at least one datagram, then takes
    /// what else is queued, up to [`BATCH`]. A timeout or interruption gives zero datagrams.
    #[cfg(target_os = "linux")]
    pub(crate) fn recv(&mut self, sock: &UdpSocket) -> io::Result<usize> {
        use nix::errno::Errno;
        use nix::sys::socket::{recvmmsg, MsgFlags};
        use std::io::IoSliceMut;
        use std::os::fd::AsRawFd;

        self.got.clear();
        let mut chunks = self.buf.chunks_exact_mut(self.slot);
        let mut iovs: [[IoSliceMut<'_>; 1]; BATCH] =
            std::array::from_fn(|_| [IoSliceMut::new(chunks.next().expect("BATCH slots"))]);
        let res = recvmmsg(
            sock.as_raw_fd(),
            &mut self.headers,
            iovs.iter_mut(),
            MsgFlags::MSG_WAITFORONE,
            None,
        );
        match res {
            Ok(msgs) => {
                for m in msgs {
                    // A datagram without a usable source address cannot be answered.
                    let from = m.address.as_ref().and_then(to_socket_addr);
                    self.got.push((m.bytes, from.unwrap_or(UNSPECIFIED)));
                }
                Ok(self.got.len())
            }
            Err(Errno::EAGAIN | Errno::EINTR) => Ok(0),
            Err(e) => Err(e.into()),
        }
    }

    /// One datagram per call off Linux.
    #[cfg(not(target_os = "linux"))]
    pub(crate) fn recv(&mut self, sock: &UdpSocket) -> io::Result<usize> {
        self.got.clear();
        match sock.recv_from(&mut self.buf[..self.slot]) {
            Ok((n, from)) => {
                self.got.push((n, from));
                Ok(1)
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                ) =>
            {
                Ok(0)
            }
            Err(e) => Err(e),
        }
    }
}

const UNSPECIFIED: SocketAddr = SocketAddr::V4(std::net::SocketAddrV4::new(
    std::net::Ipv4Addr::UNSPECIFIED,
    0,
));

#[cfg(target_os = "linux")]
fn to_socket_addr(a: &nix::sys::socket::SockaddrStorage) -> Option<SocketAddr> {
    if let Some(v4) = a.as_sockaddr_in() {
        Some(SocketAddr::V4((*v4).into()))
    } else {
        a.as_sockaddr_in6().map(|v6| SocketAddr::V6((*v6).into()))
    }
}

/// Answers queued for one `sendmmsg`.
pub(crate) struct SendBatch {
    bytes: Vec<u8>,
    queued: Vec<(usize, usize, SocketAddr)>,
    #[cfg(target_os = "linux")]
    headers: nix::sys::socket::MultiHeaders<nix::sys::socket::SockaddrStorage>,
}

impl SendBatch {
    pub(crate) fn new() -> Self {
        SendBatch {
            bytes: Vec::with_capacity(BATCH * 1024),
            queued: Vec::with_capacity(BATCH),
            #[cfg(target_os = "linux")]
            headers: nix::sys::socket::MultiHeaders::preallocate(BATCH, None),
        }
    }

    /// Queues `data` for `to`; flushes first when the batch is full.
    pub(crate) fn push(&mut self, sock: &UdpSocket, data: &[u8], to: SocketAddr) {
        if self.queued.len() == BATCH {
            self.flush(sock);
        }
        let start = self.bytes.len();
        self.bytes.extend_from_slice(data);
        self.queued.push((start, self.bytes.len(), to));
    }

    /// Sends everything queued. A datagram the kernel refuses is skipped (UDP is lossy).
    #[cfg(target_os = "linux")]
    pub(crate) fn flush(&mut self, sock: &UdpSocket) {
        use nix::errno::Errno;
        use nix::sys::socket::{sendmmsg, ControlMessage, MsgFlags, SockaddrStorage};
        use std::io::IoSlice;
        use std::os::fd::AsRawFd;

        let mut done = 0;
        while done < self.queued.len() {
            let rest = &self.queued[done..];
            let n = rest.len();
            let iovs: [[IoSlice<'_>; 1]; BATCH] = std::array::from_fn(|i| {
                [IoSlice::new(match rest.get(i) {
                    Some(&(s, e, _)) => &self.bytes[s..e],
                    None => &[],
                })]
            });
            let addrs: [Option<SockaddrStorage>; BATCH] =
                std::array::from_fn(|i| rest.get(i).map(|&(_, _, to)| SockaddrStorage::from(to)));
            let cmsgs: [ControlMessage<'_>; 0] = [];
            match sendmmsg(
                sock.as_raw_fd(),
                &mut self.headers,
                iovs[..n].iter(),
                &addrs[..n],
                cmsgs,
                MsgFlags::empty(),
            ) {
                Ok(r) => done += r.count().max(1),
                Err(Errno::EINTR) => {}
                Err(_) => done += 1,
            }
        }
        self.bytes.clear();
        self.queued.clear();
    }

    /// One datagram per call off Linux.
    #[cfg(not(target_os = "linux"))]
    pub(crate) fn flush(&mut self, sock: &UdpSocket) {
        for &(s, e, to) in &self.queued {
            let _ = sock.send_to(&self.bytes[s..e], to);
        }
        self.bytes.clear();
        self.queued.clear();
    }
}
