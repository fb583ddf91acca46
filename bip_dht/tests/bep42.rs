//! BEP 42 node ids against the conformance vectors (the BEP's IPv4 vectors, libtorrent's IPv6 and
//! invalid ones, computed prefixes for every `r`), and the exempt networks.

use std::net::IpAddr;

use bip_dht::security::{
    generate_node_id, is_exempt, is_valid_node_id, node_id_prefix, IPV4_MASK, IPV6_MASK,
};
use bip_util::NodeId;
use rand::{RngCore, SeedableRng};
use serde_json::Value as Json;

const CORPUS: &str = include_str!("../testdata/bep42_node_id.json");

fn corpus() -> Json {
    serde_json::from_str(CORPUS).expect("bep42_node_id.json parses")
}

fn ip(v: &Json) -> IpAddr {
    v["ip"].as_str().unwrap().parse().unwrap()
}

fn hex_u32(v: &Json) -> u32 {
    u32::from_str_radix(v.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
}

fn r(v: &Json) -> u8 {
    u8::try_from(v["r"].as_u64().unwrap()).unwrap()
}

/// The masked address with `r` on top, as the corpus hashes it.
fn crc_input(ip: IpAddr, r: u8) -> Vec<u8> {
    match ip {
        IpAddr::V4(v4) => ((u32::from(v4) & IPV4_MASK) | (u32::from(r) << 29))
            .to_be_bytes()
            .to_vec(),
        IpAddr::V6(v6) => {
            let high = (u128::from(v6) >> 64) as u64;
            ((high & IPV6_MASK) | (u64::from(r) << 61))
                .to_be_bytes()
                .to_vec()
        }
    }
}

#[test]
fn masks_and_crc32c_check_value() {
    let c = corpus();
    assert_eq!(hex_u32(&c["masks"]["ipv4"]), IPV4_MASK);
    assert_eq!(
        u64::from_str_radix(
            c["masks"]["ipv6_high64"]
                .as_str()
                .unwrap()
                .trim_start_matches("0x"),
            16
        )
        .unwrap(),
        IPV6_MASK
    );
    let check = &c["crc32c_check"];
    assert_eq!(
        crc32c::crc32c(check["input_ascii"].as_str().unwrap().as_bytes()),
        hex_u32(&check["crc32c"])
    );
}

#[test]
fn vectors() {
    let c = corpus();
    let vectors = c["vectors"].as_array().unwrap();
    assert_eq!(vectors.len(), 8);
    for v in vectors {
        let ip = ip(v);
        let r = r(v);
        let id = NodeId::from_hex(v["example_node_id"].as_str().unwrap()).unwrap();
        let name = format!("{ip} {id}");
        // r is the id's last byte's low 3 bits, which is the vector's `rand`.
        assert_eq!(
            id.as_bytes()[19],
            v["rand"].as_u64().unwrap() as u8,
            "{name}"
        );
        assert_eq!(id.as_bytes()[19] & 7, r, "{name}");
        assert_eq!(
            hex::encode(crc_input(ip, r)),
            v["crc32c_input_hex"].as_str().unwrap(),
            "{name}"
        );
        let crc = node_id_prefix(ip, r);
        assert_eq!(crc, hex_u32(&v["crc32c"]), "{name}");
        assert_eq!(
            hex::encode(&(crc & 0xffff_f800).to_be_bytes()[..3]),
            v["node_id_prefix_21_bits"].as_str().unwrap(),
            "{name}"
        );
        assert_eq!(
            is_valid_node_id(ip, &id),
            v["valid"].as_bool().unwrap(),
            "{name}"
        );
        // The vectors use public addresses: the pure check is what applies.
        assert!(!is_exempt(ip), "{name}");
    }
}

#[test]
fn computed_prefixes_for_every_r() {
    let c = corpus();
    let cases = c["computed_prefixes"].as_array().unwrap();
    let mut seen = std::collections::BTreeSet::new();
    for v in cases {
        let ip = ip(v);
        let r = r(v);
        seen.insert((ip, r));
        assert_eq!(
            hex::encode(crc_input(ip, r)),
            v["crc32c_input_hex"].as_str().unwrap()
        );
        let crc = node_id_prefix(ip, r);
        assert_eq!(crc, hex_u32(&v["crc32c"]), "{ip} r={r}");
        assert_eq!(crc, crc32c::crc32c(&crc_input(ip, r)), "{ip} r={r}");
        assert_eq!(
            hex::encode(&(crc & 0xffff_f800).to_be_bytes()[..3]),
            v["node_id_prefix_21_bits"].as_str().unwrap()
        );
        // An id built from the prefix with this r validates; flipping any of the 21 bits breaks it.
        let mut id = [0x55u8; 20];
        id[..4].copy_from_slice(&crc.to_be_bytes());
        id[2] = (id[2] & 0xf8) | 0x05;
        id[19] = 0xa8 | r;
        assert!(is_valid_node_id(ip, &NodeId::new(id)), "{ip} r={r}");
        for bit in 0..21 {
            let mut bad = id;
            bad[bit / 8] ^= 0x80 >> (bit % 8);
            assert!(
                !is_valid_node_id(ip, &NodeId::new(bad)),
                "{ip} r={r} bit {bit}"
            );
        }
    }
    // Every r for both addresses.
    assert_eq!(seen.len(), 16);
    // Only the low 3 bits of r count.
    let a: IpAddr = "192.0.2.1".parse().unwrap();
    assert_eq!(node_id_prefix(a, 9), node_id_prefix(a, 1));
}

#[test]
fn generated_ids_validate() {
    let c = corpus();
    let mut rng = rand::rngs::StdRng::seed_from_u64(42);
    let mut ips: Vec<IpAddr> = c["vectors"].as_array().unwrap().iter().map(ip).collect();
    ips.extend(c["computed_prefixes"].as_array().unwrap().iter().map(ip));
    ips.push("::ffff:124.31.75.21".parse().unwrap());
    for _ in 0..200 {
        let mut b = [0u8; 16];
        rng.fill_bytes(&mut b);
        ips.push(IpAddr::from(b));
        ips.push(IpAddr::from([b[0], b[1], b[2], b[3]]));
    }
    let mut rs = [0usize; 8];
    for &ip in &ips {
        for _ in 0..8 {
            let id = generate_node_id(ip, &mut rng);
            assert!(is_valid_node_id(ip, &id), "{ip} {id}");
            let r = id.as_bytes()[19] & 7;
            rs[usize::from(r)] += 1;
            let crc = node_id_prefix(ip, r).to_be_bytes();
            assert_eq!(id.as_bytes()[..2], crc[..2]);
            assert_eq!(id.as_bytes()[2] & 0xf8, crc[2] & 0xf8);
        }
    }
    // r is random: every value shows up.
    assert!(rs.iter().all(|&n| n > 0), "{rs:?}");
    // Two generated ids differ (the rest is random).
    let ip: IpAddr = "124.31.75.21".parse().unwrap();
    assert_ne!(
        generate_node_id(ip, &mut rng),
        generate_node_id(ip, &mut rng)
    );
}

/// Parses `a.b.c.d/len` into (first address, last address).
fn network(cidr: &str) -> (u32, u32) {
    let (addr, len) = cidr.split_once('/').unwrap();
    let addr = u32::from(addr.parse::<std::net::Ipv4Addr>().unwrap());
    let len: u32 = len.parse().unwrap();
    let host = u32::MAX >> len;
    (addr & !host, addr | host)
}

#[test]
fn exempt_networks() {
    let c = corpus();
    let nets = c["exempt_networks"].as_array().unwrap();
    assert_eq!(nets.len(), 5);
    for net in nets {
        let (lo, hi) = network(net.as_str().unwrap());
        for a in [lo, lo + 1, (lo / 2) + (hi / 2), hi - 1, hi] {
            let ip = IpAddr::from(std::net::Ipv4Addr::from(a));
            assert!(is_exempt(ip), "{ip} in {net}");
            // Also as an IPv4-mapped IPv6 address.
            let mapped = match ip {
                IpAddr::V4(v4) => IpAddr::V6(v4.to_ipv6_mapped()),
                IpAddr::V6(_) => unreachable!(),
            };
            assert!(is_exempt(mapped), "{mapped} in {net}");
        }
        // Just outside (where that is not another exempt network).
        for a in [lo.wrapping_sub(1), hi.wrapping_add(1)] {
            let ip = IpAddr::from(std::net::Ipv4Addr::from(a));
            let inside_other = nets.iter().any(|n| {
                let (l, h) = network(n.as_str().unwrap());
                (l..=h).contains(&a)
            });
            assert_eq!(is_exempt(ip), inside_other, "{ip} next to {net}");
        }
    }
    for ip in ["::1", "fe80::1", "fc00::1", "fd12:3456::1", "0.0.0.0", "::"] {
        assert!(is_exempt(ip.parse().unwrap()), "{ip}");
    }
    for ip in ["2001:db8::1", "8.8.8.8", "124.31.75.21", "fec0::1"] {
        assert!(!is_exempt(ip.parse().unwrap()), "{ip}");
    }
}
