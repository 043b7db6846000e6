#include "history/block.h"

#include <algorithm>
#include <cstring>
#include <numeric>

namespace pairflow::history::detail {
namespace {

template <typename T>
void put(std::string& out, T v) {
  char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  out.append(b, sizeof(T));
}

}  // namespace

void Block::clear() {
  ts.clear();
  seq.clear();
  arrival.clear();
  for (auto& c : columns) c.clear();
  text.clear();
}

void Block::begin_row(Timestamp t, std::int64_t s, std::int64_t a) {
  ts.push_back(t);
  seq.push_back(s);
  arrival.push_back(a);
  for (auto& c : columns) c.emplace_back();
}

Cell& Block::cell(int column) {
  while (static_cast<int>(columns.size()) <= column)
    columns.emplace_back(ts.size());  // a new column: absent in the earlier rows
  return columns[column].back();
}

void Block::set_real(int column, double v) {
  Cell& c = cell(column);
  c.tag = kRealCell;
  c.d = v;
}

void Block::set_text(int column, std::string_view v) {
  Cell& c = cell(column);
  c.tag = kTextCell;
  c.text_offset = text.size();
  c.text_size = static_cast<std::uint32_t>(v.size());
  text.append(v);
}

void Block::append_row_of(const Block& other, std::size_t r) {
  begin_row(other.ts[r], other.seq[r], other.arrival[r]);
  for (std::size_t c = 0; c < other.columns.size(); ++c) {
    const Cell& src = other.columns[c][r];
    if (src.tag == kAbsent) continue;
    if (src.tag == kTextCell)
      set_text(static_cast<int>(c), other.text_of(src));
    else
      cell(static_cast<int>(c)) = src;
  }
}

void Block::sort() {
  std::vector<std::size_t> order(rows());
  std::iota(order.begin(), order.end(), 0);
  auto less = [&](std::size_t a, std::size_t b) {
    return ts[a] != ts[b] ? ts[a] < ts[b] : seq[a] < seq[b];
  };
  if (std::is_sorted(order.begin(), order.end(), less)) return;
  std::stable_sort(order.begin(), order.end(), less);
  Block sorted;
  sorted.columns.resize(columns.size());
  for (std::size_t r : order) sorted.append_row_of(*this, r);
  *this = std::move(sorted);
}

namespace {

void put_varint(std::string& out, std::uint64_t v) {
  char buf[10];
  int n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  out.append(buf, n);
}
std::uint64_t zigzag(std::int64_t v) {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}
std::int64_t unzigzag(std::uint64_t v) {
  return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
}

enum Mode : std::uint8_t { kTagged = 0, kAllSameTag = 1, kConstant = 2 };

bool same_value(const Block& b, const Cell& x, const Cell& y) {
  if (x.tag != y.tag) return false;
  switch (x.tag) {
    case kIntCell:
      return x.i == y.i;
    case kRealCell:
      return std::memcmp(&x.d, &y.d, sizeof(double)) == 0;
    case kTextCell:
      return b.text_of(x) == b.text_of(y);
    default:
      return true;
  }
}

void put_payload(std::string& out, const Block& b, const Cell& c) {
  switch (c.tag) {
    case kIntCell:
      put_varint(out, zigzag(c.i));
      break;
    case kRealCell:
      put(out, c.d);
      break;
    case kTextCell:
      put_varint(out, c.text_size);
      out.append(b.text_of(c));
      break;
    default:
      break;
  }
}

}  // namespace

void encode(const Block& b, std::string& out) {
  out.clear();
  const std::size_t n = b.rows();
  std::vector<std::size_t> present;
  for (std::size_t c = 0; c < b.columns.size(); ++c)
    if (std::any_of(b.columns[c].begin(), b.columns[c].end(),
                    [](const Cell& x) { return x.tag != kAbsent; }))
      present.push_back(c);
  put<std::uint8_t>(out, 2);
  put_varint(out, n);
  put_varint(out, present.size());
  // Times and arrival counters as deltas (small for a series' consecutive rows).
  std::int64_t prev = 0;
  for (Timestamp t : b.ts) {
    put_varint(out, zigzag(t - prev));
    prev = t;
  }
  for (std::int64_t q : b.seq) put_varint(out, zigzag(q));
  prev = 0;
  for (std::int64_t a : b.arrival) {
    put_varint(out, zigzag(a - prev));
    prev = a;
  }
  for (std::size_t c : present) {
    const auto& col = b.columns[c];
    put_varint(out, c);
    const std::uint8_t tag = col[0].tag;
    const bool same_tag = tag != kAbsent && std::all_of(col.begin(), col.end(), [&](const Cell& x) {
                            return x.tag == tag;
                          });
    if (same_tag && std::all_of(col.begin(), col.end(),
                                [&](const Cell& x) { return same_value(b, x, col[0]); })) {
      put<std::uint8_t>(out, kConstant);  // e.g. the symbol of a series' rows
      put<std::uint8_t>(out, tag);
      put_payload(out, b, col[0]);
    } else if (same_tag) {
      put<std::uint8_t>(out, kAllSameTag);
      put<std::uint8_t>(out, tag);
      for (const Cell& x : col) put_payload(out, b, x);
    } else {
      put<std::uint8_t>(out, kTagged);
      for (const Cell& x : col) put<std::uint8_t>(out, x.tag);
      for (const Cell& x : col) put_payload(out, b, x);
    }
  }
}

namespace {

class Input {
 public:
  explicit Input(std::string_view b) : p_(b.data()), end_(b.data() + b.size()) {}
  bool varint(std::uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ == end_) return false;
      const auto byte = static_cast<std::uint8_t>(*p_++);
      v |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
      if (!(byte & 0x80)) return true;
    }
    return false;
  }
  template <typename T>
  bool get(T& v) {
    if (static_cast<std::size_t>(end_ - p_) < sizeof(T)) return false;
    std::memcpy(&v, p_, sizeof(T));
    p_ += sizeof(T);
    return true;
  }
  bool bytes(std::size_t n, std::string_view& out) {
    if (static_cast<std::size_t>(end_ - p_) < n) return false;
    out = std::string_view(p_, n);
    p_ += n;
    return true;
  }
  bool done() const { return p_ == end_; }

 private:
  const char* p_;
  const char* end_;
};

bool get_payload(Input& in, Block& b, Cell& cell, std::uint8_t tag) {
  cell.tag = tag;
  switch (tag) {
    case kAbsent:
      return true;
    case kIntCell: {
      std::uint64_t v;
      if (!in.varint(v)) return false;
      cell.i = unzigzag(v);
      return true;
    }
    case kRealCell:
      return in.get(cell.d);
    case kTextCell: {
      std::uint64_t size;
      std::string_view s;
      if (!in.varint(size) || !in.bytes(size, s)) return false;
      cell.text_offset = b.text.size();
      cell.text_size = static_cast<std::uint32_t>(size);
      b.text.append(s);
      return true;
    }
    default:
      return false;
  }
}

}  // namespace

bool decode(std::string_view bytes, Block& b) {
  b.ts.clear();
  b.seq.clear();
  b.arrival.clear();
  b.columns.clear();
  b.text.clear();
  Input in(bytes);
  std::uint8_t version = 0;
  std::uint64_t n = 0, present = 0;
  if (!in.get(version) || version != 2 || !in.varint(n) || !in.varint(present) || n > (1u << 24))
    return false;
  b.ts.resize(n);
  b.seq.resize(n);
  b.arrival.resize(n);
  std::int64_t prev = 0;
  std::uint64_t v;
  for (auto& t : b.ts) {
    if (!in.varint(v)) return false;
    t = prev + unzigzag(v);
    prev = t;
  }
  for (auto& q : b.seq) {
    if (!in.varint(v)) return false;
    q = unzigzag(v);
  }
  prev = 0;
  for (auto& a : b.arrival) {
    if (!in.varint(v)) return false;
    a = prev + unzigzag(v);
    prev = a;
  }
  for (std::uint64_t p = 0; p < present; ++p) {
    std::uint64_t c = 0;
    std::uint8_t mode = 0, tag = 0;
    if (!in.varint(c) || c > 65536 || !in.get(mode)) return false;
    if (b.columns.size() <= c) b.columns.resize(c + 1);
    auto& col = b.columns[c];
    col.assign(n, Cell{});
    if (mode == kConstant) {
      if (!in.get(tag)) return false;
      Cell one;
      if (!get_payload(in, b, one, tag)) return false;
      std::fill(col.begin(), col.end(), one);  // text cells share one copy of the bytes
    } else if (mode == kAllSameTag) {
      if (!in.get(tag)) return false;
      for (Cell& cell : col)
        if (!get_payload(in, b, cell, tag)) return false;
    } else if (mode == kTagged) {
      std::string_view tags;
      if (!in.bytes(n, tags)) return false;
      for (std::size_t r = 0; r < n; ++r)
        if (!get_payload(in, b, col[r], static_cast<std::uint8_t>(tags[r]))) return false;
    } else {
      return false;
    }
  }
  for (auto& col : b.columns)
    if (col.size() != n) col.assign(n, Cell{});
  return in.done();
}

}  // namespace pairflow::history::detail
