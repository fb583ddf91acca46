//! Helpers shared by the `torrent` subcommands: input from a file or `-`, sizes, dates.

use std::io::Read;
use std::path::Path;

/// The exit-code convention of every tool, shown in each `--help`.
pub const EXIT_CODES: &str = "Exit codes: 0 success; 1 the answer is \"no\" (verify found bad or \
missing data); 2 bad usage or unreadable input.";

/// The load limits of `show`, `magnet` and `verify` (libtorrent's defaults).
#[derive(clap::Args, Debug, Clone, Copy)]
pub struct LimitArgs {
    /// Largest .torrent loaded: bytes, or with a unit (16MiB, 1g); default 10000000 (10 MB).
    #[arg(long, value_name = "BYTES", value_parser = parse_size, default_value = "10000000")]
    pub max_size: u64,
    /// Most bencode values a .torrent may hold.
    #[arg(long, value_name = "N", default_value_t = 3_000_000)]
    pub max_tokens: usize,
}

impl LimitArgs {
    /// As the library's limits.
    pub fn limits(&self) -> bip_metainfo::LoadLimits {
        bip_metainfo::LoadLimits::default()
            .max_size(usize::try_from(self.max_size).unwrap_or(usize::MAX))
            .max_tokens(self.max_tokens)
    }
}

/// Read a whole input file, or standard input for `-`.
pub fn read_input(path: &Path) -> Result<Vec<u8>, String> {
    if path == Path::new("-") {
        let mut buf = Vec::new();
        std::io::stdin()
            .lock()
            .read_to_end(&mut buf)
            .map_err(|e| format!("standard input: {e}"))?;
        return Ok(buf);
    }
    std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// A size in binary units with one or two decimals: `5.72 MiB`, `256 KiB`, `6 bytes`.
pub fn human_size(n: u64) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if n < 1024 {
        return format!("{n} {}", if n == 1 { "byte" } else { "bytes" });
    }
    let mut v = n as f64 / 1024.0;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    let s = format!("{v:.2}");
    format!("{} {}", s.strip_suffix(".00").unwrap_or(&s), UNITS[u])
}

/// `n` with the word in singular or plural: `1 piece`, `23 pieces`.
pub fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Unix seconds as ISO 8601 UTC: `2023-11-14T22:13:20Z` (proleptic Gregorian calendar).
pub fn iso8601(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// A size with an optional binary unit: `262144`, `16KiB`, `16k`, `1MiB`, `4m`, `4 MB`
/// (k/m/g always mean 1024-based units, as in mktorrent).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a size (examples: 262144, 16KiB, 1MiB, 4m)"))?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ => {
            return Err(format!(
                "{s:?}: unknown unit (use KiB, MiB or GiB, or k, m, g)"
            ))
        }
    };
    n.checked_mul(mult)
        .ok_or_else(|| format!("{s:?} is too large"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats() {
        assert_eq!(super::iso8601(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::iso8601(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(super::iso8601(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(super::human_size(262_144), "256 KiB");
        assert_eq!(super::parse_size("4m"), Ok(4 << 20));
        assert_eq!(super::parse_size("16KiB"), Ok(16 << 10));
    }
}
