//! The parallel hashing engine shared by creation and verification.
//!
//! The content is a *virtual layout*: real files (read through a [`DataSource`]) and zero-filled
//! padding laid end to end. Hashing is split into *segments* (the whole layout for v1, one per
//! file for v2 and hybrid), each cut into pieces. Workers (`std::thread::scope`) take jobs (a few
//! MiB of contiguous pieces) from an atomic counter, read each chunk with one positioned read per
//! file it touches, and hash it: SHA-1 per piece (v1) and/or SHA-256 per 16 KiB block folded into
//! a per-piece merkle root (v2). Each worker has a reader thread that reads its next chunks
//! (this job's and the first of the job it takes next) into spare buffers while it hashes, so
//! the copy from the page cache and any wait for the disk overlap with SHA work.
//!
//! Verification (`fail_fast == false`) must cost exactly the pieces that overlap unreadable
//! bytes: when a batched read of several pieces fails, each of its pieces is read again on its
//! own, and only those whose own read fails are reported as unreadable (`None`).

use std::collections::VecDeque;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Mutex;

use bip_util::{Digest, Sha1, Sha256};

use super::DataSource;

/// BEP 52 merkle leaf size.
pub(crate) const BLOCK: u64 = 16 * 1024;
/// Bytes read (and hashed) per positioned read batch: fits in L2 so hashing reads cached data.
const READ_BYTES: u64 = 1 << 20;
/// Bytes per job taken from the shared queue.
const JOB_BYTES: u64 = 8 << 20;

/// One entry of the virtual layout.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    /// Offset in the layout.
    pub start: u64,
    /// Length in bytes.
    pub len: u64,
    /// Index in the data source, `None` for zero padding.
    pub src: Option<usize>,
}

/// A hashed range of the layout: `data_len` bytes of real data (v2 leaves) followed by padding
/// up to `v1_len` (v1 pieces include the padding).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Segment {
    pub start: u64,
    pub data_len: u64,
    pub v1_len: u64,
}

impl Segment {
    pub(crate) fn pieces(&self, pl: u64) -> u64 {
        self.v1_len.max(self.data_len).div_ceil(pl)
    }
}

/// What to compute.
pub(crate) struct Spec<'a> {
    pub piece_length: u64,
    pub v1: bool,
    pub v2: bool,
    pub threads: usize,
    /// Stop at the first read error (creation) instead of marking pieces bad (verification).
    pub fail_fast: bool,
    pub progress: Option<&'a (dyn Fn(u64, u64) + Sync)>,
    pub cancel: Option<&'a AtomicBool>,
}

/// Per-segment results; `None` where data could not be read.
#[derive(Debug, Default, Clone)]
pub(crate) struct SegOut {
    pub v1: Vec<Option<[u8; 20]>>,
    /// v2 piece-layer hashes (for a single-piece segment: the file's root).
    pub v2: Vec<Option<[u8; 32]>>,
    /// Data-source files whose reads failed (unsorted, may repeat).
    pub failed: Vec<usize>,
}

/// Why the engine stopped.
#[derive(Debug)]
pub(crate) enum EngineError {
    Cancelled,
    Io { src: usize, err: io::Error },
}

/// SHA-256 of two concatenated nodes.
pub(crate) fn node(l: &[u8; 32], r: &[u8; 32]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(l);
    h.update(r);
    h.finalize().into()
}

/// Root of a subtree of `2^level` zero leaves.
pub(crate) fn zero_hash(level: u32) -> [u8; 32] {
    let mut z = [0u8; 32];
    for _ in 0..level {
        z = node(&z, &z);
    }
    z
}

/// Merkle root over `layer` (nodes at `level`) padded with zero subtrees to `width` (a power
/// of two, at least `layer.len()`).
pub(crate) fn merkle_root(mut layer: Vec<[u8; 32]>, width: u64, level: u32) -> [u8; 32] {
    let mut pad = zero_hash(level);
    let mut w = width.max(1);
    while w > 1 {
        let next: Vec<[u8; 32]> = layer
            .chunks(2)
            .map(|p| node(&p[0], p.get(1).unwrap_or(&pad)))
            .collect();
        pad = node(&pad, &pad);
        layer = next;
        w /= 2;
    }
    layer.first().copied().unwrap_or(pad)
}

/// v2 root of one file from its piece-layer hashes (or the single-piece root).
pub(crate) fn file_root(pieces: &[[u8; 32]], pl: u64) -> [u8; 32] {
    if pieces.len() == 1 {
        return pieces[0];
    }
    let level = (pl / BLOCK).trailing_zeros();
    merkle_root(
        pieces.to_vec(),
        (pieces.len() as u64).next_power_of_two(),
        level,
    )
}

/// Fill `buf` with layout bytes from `off`.
///
/// With `failed`, a failing file does not stop the read: its index is pushed to `failed`, the
/// rest of the buffer is still read, and the first error is returned at the end.
fn read_layout(
    layout: &[Entry],
    src: &dyn DataSource,
    mut off: u64,
    mut buf: &mut [u8],
    mut failed: Option<&mut Vec<usize>>,
) -> Result<(), (usize, io::Error)> {
    // First entry that ends after `off`.
    let mut i = layout.partition_point(|e| e.start + e.len <= off);
    let mut first_err = None;
    while !buf.is_empty() {
        let Some(e) = layout.get(i) else {
            return Err((
                usize::MAX,
                io::Error::new(io::ErrorKind::UnexpectedEof, "read past the layout"),
            ));
        };
        i += 1;
        if e.len == 0 {
            continue;
        }
        let within = off - e.start;
        let n = (e.len - within).min(buf.len() as u64) as usize;
        let (head, tail) = buf.split_at_mut(n);
        match e.src {
            None => head.fill(0),
            Some(s) => {
                if let Err(err) = src.read_at(s, within, head) {
                    match failed.as_deref_mut() {
                        None => return Err((s, err)),
                        Some(f) => {
                            f.push(s);
                            first_err.get_or_insert((s, err));
                        }
                    }
                }
            }
        }
        buf = tail;
        off += n as u64;
    }
    first_err.map_or(Ok(()), Err)
}

type ReadResult = Result<(), (usize, io::Error)>;

/// Reads up to [`READ_AHEAD`] chunks ahead of the hashing: a reader thread per worker fills the
/// next planned chunks (from the page cache or the disk) into spare buffers while the worker
/// hashes the current one, so copying and waiting for the disk overlap with SHA work, and a
/// worker that gets the CPU back finds its data ready. Reads are always exactly the ones asked
/// for: a read that is not the next prefetched one (after a failure skipped a piece's rest) is
/// done synchronously and the prefetched chunks are dropped.
struct ReadAhead<'a> {
    layout: &'a [Entry],
    source: &'a dyn DataSource,
    /// Collect failing files and read on past them (the large-piece path of verification).
    collect: bool,
    /// Reads planned and not requested yet: (layout offset, length).
    plan: VecDeque<(u64, usize)>,
    /// Reads requested from the reader thread, in order.
    inflight: VecDeque<(u64, usize)>,
    req: SyncSender<(u64, usize, Vec<u8>)>,
    resp: Receiver<(Vec<u8>, ReadResult, Vec<usize>)>,
    spare: Vec<Vec<u8>>,
    /// The chunk being hashed.
    cur: Vec<u8>,
}

/// Chunks a worker's reader thread may have read ahead (each a buffer of up to [`READ_BYTES`]).
const READ_AHEAD: usize = 2;

impl ReadAhead<'_> {
    /// Read `n` layout bytes at `off` into `self.cur[..n]` (failing files go to `failed` when
    /// `collect`), then request the next planned chunks.
    fn read(&mut self, off: u64, n: usize, failed: &mut Vec<usize>) -> ReadResult {
        let res = if self.inflight.front() == Some(&(off, n)) {
            self.inflight.pop_front();
            let (buf, res, f) = self.resp.recv().map_err(|_| reader_gone())?;
            self.spare.push(std::mem::replace(&mut self.cur, buf));
            failed.extend(f);
            res
        } else {
            // Off plan: drop what was read ahead and the plan up to this read.
            while self.inflight.pop_front().is_some() {
                let (buf, _, _) = self.resp.recv().map_err(|_| reader_gone())?;
                self.spare.push(buf);
            }
            if self.plan.contains(&(off, n)) {
                while self.plan.pop_front().is_some_and(|f| f != (off, n)) {}
            }
            if self.cur.len() < n {
                self.cur.resize(n, 0);
            }
            let f = self.collect.then_some(failed);
            read_layout(self.layout, self.source, off, &mut self.cur[..n], f)
        };
        while self.inflight.len() < READ_AHEAD {
            let (Some(&(o, l)), Some(mut buf)) = (self.plan.front(), self.spare.pop()) else {
                break;
            };
            if buf.len() < l {
                buf.resize(l, 0);
            }
            if let Err(e) = self.req.send((o, l, buf)) {
                self.spare.push(e.0 .2);
                break;
            }
            self.plan.pop_front();
            self.inflight.push_back((o, l));
        }
        res
    }
}

#[cold]
fn reader_gone() -> (usize, io::Error) {
    (usize::MAX, io::Error::other("read-ahead thread stopped"))
}

/// The reader thread of a [`ReadAhead`]: serves read requests until the worker drops its end.
fn read_ahead_loop(
    layout: &[Entry],
    source: &dyn DataSource,
    collect: bool,
    req: Receiver<(u64, usize, Vec<u8>)>,
    resp: SyncSender<(Vec<u8>, ReadResult, Vec<usize>)>,
) {
    while let Ok((off, n, mut buf)) = req.recv() {
        let mut failed = Vec::new();
        let res = read_layout(
            layout,
            source,
            off,
            &mut buf[..n],
            collect.then_some(&mut failed),
        );
        if resp.send((buf, res, failed)).is_err() {
            return;
        }
    }
}

struct Job {
    seg: usize,
    first: u64,
    count: u64,
}

/// Hash the segments of `layout`.
pub(crate) fn run(
    layout: &[Entry],
    segments: &[Segment],
    spec: &Spec<'_>,
    source: &dyn DataSource,
) -> Result<Vec<SegOut>, EngineError> {
    let pl = spec.piece_length;
    let per_job = (JOB_BYTES / pl).max(1);
    let mut jobs = Vec::new();
    let mut outs = Vec::with_capacity(segments.len());
    let mut total = 0u64;
    for (i, s) in segments.iter().enumerate() {
        let n = s.pieces(pl);
        total = total.saturating_add(s.v1_len.max(s.data_len));
        let mut first = 0;
        while first < n {
            let count = per_job.min(n - first);
            jobs.push(Job {
                seg: i,
                first,
                count,
            });
            first += count;
        }
        outs.push(SegOut {
            v1: if spec.v1 {
                vec![None; n as usize]
            } else {
                Vec::new()
            },
            v2: if spec.v2 {
                vec![None; n as usize]
            } else {
                Vec::new()
            },
            failed: Vec::new(),
        });
    }
    let next = AtomicUsize::new(0);
    let done = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let failure: Mutex<Option<EngineError>> = Mutex::new(None);
    let threads = spec.threads.clamp(1, jobs.len().max(1));
    let results: Vec<Vec<(usize, SegOut)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    worker(
                        layout, segments, spec, source, &jobs, &next, &done, total, &stop, &failure,
                    )
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_default())
            .collect()
    });
    if let Some(e) = failure.into_inner().unwrap_or_else(|p| p.into_inner()) {
        return Err(e);
    }
    for (j, out) in results.into_iter().flatten() {
        let job = &jobs[j];
        let o = &mut outs[job.seg];
        let a = job.first as usize;
        if spec.v1 {
            o.v1[a..a + out.v1.len()].copy_from_slice(&out.v1);
        }
        if spec.v2 {
            o.v2[a..a + out.v2.len()].copy_from_slice(&out.v2);
        }
        o.failed.extend(out.failed);
    }
    Ok(outs)
}

#[allow(clippy::too_many_arguments)]
fn worker(
    layout: &[Entry],
    segments: &[Segment],
    spec: &Spec<'_>,
    source: &dyn DataSource,
    jobs: &[Job],
    next: &AtomicUsize,
    done: &AtomicU64,
    total: u64,
    stop: &AtomicBool,
    failure: &Mutex<Option<EngineError>>,
) -> Vec<(usize, SegOut)> {
    let pl = spec.piece_length;
    // Pieces up to READ_BYTES are read several at a time; larger ones in READ_BYTES slices
    // (a multiple of BLOCK) hashed incrementally, so a buffer never exceeds READ_BYTES.
    let big = pl > READ_BYTES;
    let chunk_pieces = (READ_BYTES / pl).max(1);
    let size = if big { READ_BYTES } else { chunk_pieces * pl } as usize;
    let collect = big && !spec.fail_fast;
    std::thread::scope(|scope| {
        let (req_tx, req_rx) = sync_channel(READ_AHEAD);
        let (resp_tx, resp_rx) = sync_channel(READ_AHEAD);
        scope.spawn(move || read_ahead_loop(layout, source, collect, req_rx, resp_tx));
        let mut ra = ReadAhead {
            layout,
            source,
            collect,
            plan: VecDeque::new(),
            inflight: VecDeque::new(),
            req: req_tx,
            resp: resp_rx,
            spare: (0..READ_AHEAD).map(|_| vec![0u8; size]).collect(),
            cur: vec![0u8; size],
        };
        // Dropping `ra` (its request sender) ends the reader thread.
        hash_jobs(
            layout, segments, spec, jobs, next, done, total, stop, failure, &mut ra,
        )
    })
}

/// The reads of `job`, in the order [`hash_jobs`] makes them when none fails.
fn plan_job(segments: &[Segment], pl: u64, job: &Job, plan: &mut VecDeque<(u64, usize)>) {
    let seg = segments[job.seg];
    if pl > READ_BYTES {
        for p in job.first..job.first + job.count {
            let end = ((p + 1) * pl)
                .min(seg.v1_len)
                .max(((p + 1) * pl).min(seg.data_len));
            let mut pos = p * pl;
            while pos < end {
                let n = READ_BYTES.min(end - pos);
                plan.push_back((seg.start + pos, n as usize));
                pos += n;
            }
        }
    } else {
        let chunk_pieces = (READ_BYTES / pl).max(1);
        let seg_len = seg.v1_len.max(seg.data_len);
        let mut p = job.first;
        while p < job.first + job.count {
            let n = chunk_pieces.min(job.first + job.count - p);
            let rel = p * pl;
            plan.push_back((seg.start + rel, (n * pl).min(seg_len - rel) as usize));
            p += n;
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn hash_jobs(
    layout: &[Entry],
    segments: &[Segment],
    spec: &Spec<'_>,
    jobs: &[Job],
    next: &AtomicUsize,
    done: &AtomicU64,
    total: u64,
    stop: &AtomicBool,
    failure: &Mutex<Option<EngineError>>,
    ra: &mut ReadAhead<'_>,
) -> Vec<(usize, SegOut)> {
    let pl = spec.piece_length;
    let big = pl > READ_BYTES;
    let chunk_pieces = (READ_BYTES / pl).max(1);
    // The job after the current one is taken in advance so that its first read is planned
    // (and prefetched) while the current one is hashed.
    let mut upcoming = next.fetch_add(1, Ordering::Relaxed);
    if let Some(job) = jobs.get(upcoming) {
        plan_job(segments, pl, job, &mut ra.plan);
    }
    let mut leaves: Vec<[u8; 32]> = Vec::with_capacity((pl / BLOCK) as usize);
    let mut out = Vec::new();
    let fail = |e: EngineError| {
        stop.store(true, Ordering::Relaxed);
        let mut f = failure.lock().unwrap_or_else(|p| p.into_inner());
        if f.is_none() {
            *f = Some(e);
        }
    };
    loop {
        if stop.load(Ordering::Relaxed) {
            return out;
        }
        let j = upcoming;
        let Some(job) = jobs.get(j) else { return out };
        upcoming = next.fetch_add(1, Ordering::Relaxed);
        if let Some(job) = jobs.get(upcoming) {
            plan_job(segments, pl, job, &mut ra.plan);
        }
        let seg = segments[job.seg];
        let seg_pieces = seg.pieces(pl);
        let seg_len = seg.v1_len.max(seg.data_len);
        let mut res = SegOut::default();
        if big {
            for p in job.first..job.first + job.count {
                let v1_end = ((p + 1) * pl).min(seg.v1_len);
                let data_end = ((p + 1) * pl).min(seg.data_len);
                let end = v1_end.max(data_end);
                let mut sha1 = Sha1::new();
                leaves.clear();
                let mut ok = true;
                let mut pos = p * pl;
                while pos < end {
                    if spec.cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
                        fail(EngineError::Cancelled);
                        return out;
                    }
                    if stop.load(Ordering::Relaxed) {
                        return out;
                    }
                    let n = READ_BYTES.min(end - pos) as usize;
                    match ra.read(seg.start + pos, n, &mut res.failed) {
                        Ok(()) => {}
                        Err((src, err)) if spec.fail_fast => {
                            fail(EngineError::Io { src, err });
                            return out;
                        }
                        Err(_) => ok = false,
                    }
                    let buf = &ra.cur;
                    if ok && spec.v1 {
                        sha1.update(&buf[..n]);
                    }
                    if ok && spec.v2 {
                        let d = (data_end.saturating_sub(pos) as usize).min(n);
                        leaves.extend(
                            buf[..d]
                                .chunks(BLOCK as usize)
                                .map(|c| <[u8; 32]>::from(Sha256::digest(c))),
                        );
                    }
                    pos += n as u64;
                    let now = done.fetch_add(n as u64, Ordering::Relaxed) + n as u64;
                    if let Some(cb) = spec.progress {
                        cb(now, total);
                    }
                    if !ok {
                        // Count the rest of the piece as done without reading it.
                        let rest = end - pos;
                        let now = done.fetch_add(rest, Ordering::Relaxed) + rest;
                        if let Some(cb) = spec.progress {
                            cb(now, total);
                        }
                        break;
                    }
                }
                if spec.v1 {
                    res.v1.push(ok.then(|| sha1.finalize().into()));
                }
                if spec.v2 {
                    let width = if seg_pieces > 1 {
                        pl / BLOCK
                    } else {
                        (leaves.len() as u64).next_power_of_two()
                    };
                    res.v2
                        .push(ok.then(|| merkle_root(std::mem::take(&mut leaves), width, 0)));
                }
            }
            out.push((j, res));
            continue;
        }
        let mut p = job.first;
        while p < job.first + job.count {
            if spec.cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
                fail(EngineError::Cancelled);
                return out;
            }
            if stop.load(Ordering::Relaxed) {
                return out;
            }
            let n = chunk_pieces.min(job.first + job.count - p);
            let rel = p * pl;
            let len = (n * pl).min(seg_len - rel) as usize;
            // `readable[k]`: piece `p + k` was read in full.
            let mut readable = vec![true; n as usize];
            match ra.read(seg.start + rel, len, &mut res.failed) {
                Ok(()) => {}
                Err((src, err)) if spec.fail_fast => {
                    fail(EngineError::Io { src, err });
                    return out;
                }
                Err(_) => {
                    // Read each piece of the batch on its own: a failure costs only the pieces
                    // that overlap the unreadable bytes.
                    for (k, r) in readable.iter_mut().enumerate() {
                        let a = (k as u64 * pl).min(len as u64) as usize;
                        let b = (a + pl as usize).min(len);
                        *r = read_layout(
                            layout,
                            ra.source,
                            seg.start + rel + a as u64,
                            &mut ra.cur[a..b],
                            Some(&mut res.failed),
                        )
                        .is_ok();
                    }
                }
            }
            let buf = &ra.cur;
            for k in 0..n {
                let ok = readable[k as usize];
                let prel = (p + k) * pl;
                let a = ((k * pl) as usize).min(len);
                let b = (a + pl as usize).min(len);
                if spec.v1 {
                    let v1_end = ((p + k + 1) * pl).min(seg.v1_len);
                    let b1 = a + (v1_end.saturating_sub(prel)) as usize;
                    res.v1
                        .push(ok.then(|| Sha1::digest(&buf[a..b1.min(b)]).into()));
                }
                if spec.v2 {
                    let data_end = ((p + k + 1) * pl).min(seg.data_len);
                    let b2 = a + (data_end.saturating_sub(prel)) as usize;
                    res.v2.push(ok.then(|| {
                        leaves.clear();
                        leaves.extend(
                            buf[a..b2]
                                .chunks(BLOCK as usize)
                                .map(|c| <[u8; 32]>::from(Sha256::digest(c))),
                        );
                        let width = if seg_pieces > 1 {
                            pl / BLOCK
                        } else {
                            (leaves.len() as u64).next_power_of_two()
                        };
                        merkle_root(std::mem::take(&mut leaves), width, 0)
                    }));
                }
            }
            p += n;
            let now = done.fetch_add(len as u64, Ordering::Relaxed) + len as u64;
            if let Some(cb) = spec.progress {
                cb(now, total);
            }
        }
        out.push((j, res));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_hash_levels() {
        assert_eq!(zero_hash(0), [0; 32]);
        assert_eq!(zero_hash(1), node(&[0; 32], &[0; 32]));
    }

    #[test]
    fn merkle_pads_with_zero_subtrees() {
        let a = [1u8; 32];
        let b = [2u8; 32];
        let c = [3u8; 32];
        let r = merkle_root(vec![a, b, c], 4, 0);
        assert_eq!(r, node(&node(&a, &b), &node(&c, &[0; 32])));
        let r2 = merkle_root(vec![a], 4, 0);
        assert_eq!(r2, node(&node(&a, &[0; 32]), &zero_hash(1)));
    }
}
