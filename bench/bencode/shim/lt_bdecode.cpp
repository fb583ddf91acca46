// Minimal C ABI over libtorrent's lazy `bdecode` for the bencode benchmark.
// Each function decodes `buf` into a `bdecode_node` kept across calls (as
// libtorrent's own DHT and torrent_info reuse theirs, so the token vector's
// allocation is reused) and does the same navigation as the Rust side,
// returning a checksum (or -1 on a decode error).
#include <libtorrent/bdecode.hpp>
#include <cstdint>

namespace {
thread_local lt::bdecode_node node;

bool decode(const char* buf, int len, int depth) {
    lt::error_code ec;
    int pos = 0;
    lt::bdecode(buf, buf + len, node, ec, &pos, depth, 100000000);
    return !ec;
}

int64_t walk_all(const lt::bdecode_node& n) {
    switch (n.type()) {
    case lt::bdecode_node::int_t: return n.int_value();
    case lt::bdecode_node::string_t: return n.string_length();
    case lt::bdecode_node::list_t: {
        int64_t s = 1;
        int sz = n.list_size();
        for (int i = 0; i < sz; ++i) s += walk_all(n.list_at(i));
        return s;
    }
    case lt::bdecode_node::dict_t: {
        int64_t s = 1;
        int sz = n.dict_size();
        for (int i = 0; i < sz; ++i) {
            auto kv = n.dict_at_node(i);
            s += kv.first.string_length() + walk_all(kv.second);
        }
        return s;
    }
    default: return 0;
    }
}
} // namespace

extern "C" {

// Torrent: info -> files -> each: length (sum), path components (count, bytes).
int64_t lt_torrent_walk(const char* buf, int len) {
    if (!decode(buf, len, 100)) return -1;
    lt::bdecode_node info = node.dict_find_dict("info");
    if (!info) return -1;
    lt::bdecode_node files = info.dict_find_list("files");
    if (!files) return -1;
    int64_t total = 0, comps = 0, bytes = 0;
    int n = files.list_size();
    for (int i = 0; i < n; ++i) {
        lt::bdecode_node f = files.list_at(i);
        total += f.dict_find_int_value("length", 0);
        lt::bdecode_node path = f.dict_find_list("path");
        int m = path.list_size();
        comps += m;
        for (int j = 0; j < m; ++j) bytes += path.list_at(j).string_length();
    }
    return total + comps * 1000003 + bytes * 7;
}

// KRPC: y, t, then a/r -> id; responses: nodes length and values (count, bytes).
int64_t lt_krpc_walk(const char* buf, int len) {
    if (!decode(buf, len, 100)) return -1;
    if (node.type() != lt::bdecode_node::dict_t) return -1;
    auto y = node.dict_find_string_value("y");
    auto t = node.dict_find_string_value("t");
    if (y.empty()) return -1;
    int64_t sum = (unsigned char)y[0] + (int64_t)t.size();
    lt::bdecode_node body = node.dict_find_dict(y[0] == 'q' ? "a" : "r");
    if (!body) return -1;
    auto id = body.dict_find_string_value("id");
    if (id.size() != 20) return -1;
    sum += (unsigned char)id[0];
    if (y[0] == 'r') {
        sum += (int64_t)body.dict_find_string_value("nodes").size();
        lt::bdecode_node values = body.dict_find_list("values");
        if (values) {
            int n = values.list_size();
            for (int i = 0; i < n; ++i) sum += 1000 + values.list_at(i).string_length();
        }
    }
    return sum;
}

// Deep nesting: walk everything (ints summed, containers counted, string bytes).
int64_t lt_deep_walk(const char* buf, int len) {
    if (!decode(buf, len, 1000)) return -1;
    return walk_all(node);
}

}

extern "C" {
// Decode only (no navigation): returns the number of top-level items or -1.
int64_t lt_decode_only(const char* buf, int len) {
    if (!decode(buf, len, 100)) return -1;
    return node.type() == lt::bdecode_node::dict_t ? node.dict_size() : 1;
}
}

// Encoding from libtorrent's value tree (`lt::entry`, built once from the
// input by `lt_entry_prepare`), as `lt::bencode` into a fresh vector, like the
// Rust side's `Bencode::encode`. Returns the encoded length.
#include <libtorrent/entry.hpp>
#include <libtorrent/bencode.hpp>
#include <iterator>
#include <vector>

namespace {
thread_local lt::entry ent;
}

extern "C" {
int64_t lt_entry_prepare(const char* buf, int len) {
    if (!decode(buf, len, 1000)) return -1;
    ent = lt::entry(node);
    return 0;
}

int64_t lt_entry_encode(const char*, int) {
    std::vector<char> out;
    lt::bencode(std::back_inserter(out), ent);
    return (int64_t)out.size();
}
}
