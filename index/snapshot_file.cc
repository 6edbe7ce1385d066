#include "index/snapshot_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <span>
#include <thread>
#include <utility>

#include "index/byte_order.h"
#include "index/crc32c.h"
#include "index/portable_bitmap.h"
#include "index/posix_file.h"
namespace crowd {
namespace {

constexpr std::string_view kMagic = "crowdsnp";
// Version 2 adds the log section (the LSN the snapshot covers); version 1
// files are still read, without it.
constexpr uint32_t kFormatVersion = 2;
constexpr std::size_t kHeaderBytes = 40;
constexpr std::size_t kSectionHeaderBytes = 24;
constexpr uint32_t kRequired = 1;

std::string section_name(uint32_t type) {
  switch (static_cast<SnapshotSectionType>(type)) {
    case SnapshotSectionType::kMeta:
      return "meta";
    case SnapshotSectionType::kUsers:
      return "users";
    case SnapshotSectionType::kUniverse:
      return "universe";
    case SnapshotSectionType::kDictionary:
      return "dictionary";
    case SnapshotSectionType::kTags:
      return "tags";
    case SnapshotSectionType::kEntries:
      return "entries";
    case SnapshotSectionType::kLog:
      return "log";
    case SnapshotSectionType::kUidless:
      return "uidless";
    case SnapshotSectionType::kIds:
      return "ids";
  }
  std::string name = "type ";
  name += std::to_string(type);
  return name;
}

// A message made by appending its parts (GCC 12 warns, spuriously,
// -Wrestrict on "literal" + std::string).
std::string concat(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (const std::string_view p : parts) out += p;
  return out;
}

// A space's name for a message, quoted: bytes outside printable ASCII as
// \xNN, at most 64 of them (the name comes from a damaged file).
std::string printable(std::string_view name) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "'";
  for (const char ch : name.substr(0, 64)) {
    const auto b = static_cast<unsigned char>(ch);
    if (b >= 0x20 && b < 0x7f && b != '\\' && b != '\'') {
      out += ch;
    } else {
      out += "\\x";
      out += kHex[b >> 4];
      out += kHex[b & 15];
    }
  }
  if (name.size() > 64) out += "...";
  out += '\'';
  return out;
}

// ---- Writing ---------------------------------------------------------------

// Builds one section at a time in a buffer that has room for the section
// header in front, so each section is a single write(2).
class SectionWriter {
 public:
  explicit SectionWriter(File& file) : file_(file) {}

  std::string& begin() {
    buf_.assign(kSectionHeaderBytes, '\0');
    return buf_;
  }
  // The section begun last, header room included.
  [[nodiscard]] std::string& current() { return buf_; }
  [[nodiscard]] std::size_t payload_bytes() const { return buf_.size() - kSectionHeaderBytes; }

  [[nodiscard]] bool emit(SnapshotSectionType type, std::string& error) {
    char* h = buf_.data();
    const std::size_t n = payload_bytes();
    le::store_u32(h, static_cast<uint32_t>(type));
    le::store_u32(h + 4, kRequired);
    le::store_u64(h + 8, n);
    le::store_u32(h + 16, crc32c(h + kSectionHeaderBytes, n));
    le::store_u32(h + 20, crc32c(h, 20));
    if (!file_.write_all(buf_, error)) return false;
    bytes_ += buf_.size();
    ++sections_;
    return true;
  }

  [[nodiscard]] uint64_t bytes() const { return bytes_; }
  [[nodiscard]] uint32_t sections() const { return sections_; }

 private:
  File& file_;
  std::string buf_;
  uint64_t bytes_ = 0;
  uint32_t sections_ = 0;
};

void append_bitmap(std::string& out, const Bitmap& b) {
  const std::size_t n = roaring_bitmap_portable_size_in_bytes(b.get());
  const std::size_t at = out.size();
  out.resize(at + n);
  roaring_bitmap_portable_serialize(b.get(), out.data() + at);
}

// Every ID space's links of the view's users, as runs of (ordinal, key)
// pairs cut once a run passes the section size; a space without links is
// one empty run, so its definition survives. begin_run() gives the buffer a
// run is appended to (it may hold bytes before), finish_run() takes the run
// once its count is set; false stops the walk. The spaces are walked as they
// are now (see snapshot_file.h): links of users the view does not hold --
// made by a later write -- are left out; each user's keys go in list order.
template <class BeginRun, class FinishRun>
bool walk_ids(const IndexView& view, std::size_t section_bytes, BeginRun begin_run, FinishRun finish_run) {
  const Bitmap& universe = view.universe().bits;
  const uint32_t ordinals = view.ordinal_count();
  for (const auto& named : view.id_spaces().all()) {
    const IdSpace& space = *named.space;
    const auto width = static_cast<uint32_t>(space.key_bytes());
    std::string* run = nullptr;
    std::size_t start = 0;
    std::size_t count_at = 0;
    uint64_t n = 0;
    auto begin = [&] {
      run = &begin_run();
      start = run->size();
      le::append_u32(*run, static_cast<uint32_t>(named.name.size()));
      *run += named.name;
      le::append_u32(*run, width);
      count_at = run->size();
      le::append_u64(*run, 0);
      n = 0;
    };
    auto finish = [&] {
      le::store_u64(run->data() + count_at, n);
      return finish_run();
    };
    begin();
    bool ok = true;
    space.for_each([&](Ordinal o, std::string_view key) {
      if (!ok || o >= ordinals || !universe.contains(o)) return;
      if (n > 0 && run->size() - start >= section_bytes) {
        ok = finish();
        if (!ok) return;
        begin();
      }
      le::append_u32(*run, o);
      if (width == 0) run->push_back(static_cast<char>(key.size()));
      *run += key;
      ++n;
    });
    if (!ok || !finish()) return false;
  }
  return true;
}

bool write_ids(const IndexView& view, const SnapshotIds* ahead, std::size_t section_bytes, SectionWriter& w,
               std::string& error) {
  if (ahead != nullptr) {
    for (const std::string& run : ahead->runs) {
      w.begin() += run;
      if (!w.emit(SnapshotSectionType::kIds, error)) return false;
    }
    return true;
  }
  return walk_ids(
      view, section_bytes, [&w]() -> std::string& { return w.begin(); },
      [&] { return w.emit(SnapshotSectionType::kIds, error); });
}

bool write_sections(const IndexView& view, const SnapshotIds* ids, uint64_t covered_lsn, std::size_t section_bytes,
                    SectionWriter& w, std::string& error) {
  const uint64_t ordinals = view.ordinal_count();
  const TagDictionary& dict = view.dictionary();
  const uint64_t tags = view.tag_count();
  if (dict.size() != tags) {
    error = "the index view has " + std::to_string(tags) + " tag bitmaps but " + std::to_string(dict.size()) +
            " dictionary names";
    return false;
  }

  auto& meta = w.begin();
  le::append_u64(meta, ordinals);
  le::append_u64(meta, tags);
  if (!w.emit(SnapshotSectionType::kMeta, error)) return false;

  le::append_u64(w.begin(), covered_lsn);
  if (!w.emit(SnapshotSectionType::kLog, error)) return false;

  // Right to erasure: a deleted user keeps its ordinal in memory, but its
  // external ID is written as 0 -- the ordinals outside the universe are
  // exactly the deleted users, and the reader never looks their IDs up. So
  // after a DELETE and the next snapshot the ID is in no file we keep.
  // Users without a uid are written as 0 too: their slot reads 0, or a uid
  // a write gave them after this view (UserTable::assign), which the log
  // replays. The uidless section written is the view's, within its universe
  // (the two agree on every write path; a stray bit outside would make the
  // file unreadable, and means the same as its absence: an ordinal no ID
  // finds).
  Bitmap uidless(roaring_bitmap_and(view.uidless().bits.get(), view.universe().bits.get()));
  Bitmap hidden(roaring_bitmap_flip(view.universe().bits.get(), 0, ordinals));
  roaring_bitmap_or_inplace(hidden.get(), uidless.get());
  roaring_uint32_iterator_t next_hidden;
  roaring_init_iterator(hidden.get(), &next_hidden);
  const uint64_t ids_per_section = std::max<uint64_t>(1, section_bytes / sizeof(UserId));
  for (uint64_t first = 0; first < ordinals; first += ids_per_section) {
    const uint64_t n = std::min(ids_per_section, ordinals - first);
    auto& run = w.begin();
    le::append_u64(run, first);
    le::append_u64(run, n);
    const std::size_t at = run.size();
    run.resize(at + n * sizeof(UserId));
    char* p = run.data() + at;
    for (uint64_t i = 0; i < n; ++i, p += sizeof(UserId))
      le::store_u64(p, view.external(static_cast<Ordinal>(first + i)));
    for (; next_hidden.has_value && next_hidden.current_value < first + n;
         roaring_advance_uint32_iterator(&next_hidden))
      le::store_u64(run.data() + at + (next_hidden.current_value - first) * sizeof(UserId), 0);
    if (!w.emit(SnapshotSectionType::kUsers, error)) return false;
  }

  if (!uidless.empty()) {
    append_bitmap(w.begin(), uidless);
    if (!w.emit(SnapshotSectionType::kUidless, error)) return false;
  }

  append_bitmap(w.begin(), view.universe().bits);
  if (!w.emit(SnapshotSectionType::kUniverse, error)) return false;

  if (!write_ids(view, ids, section_bytes, w, error)) return false;

  auto& names = w.begin();
  le::append_u64(names, tags);
  for (TagId id = 0; id < tags; ++id) {
    const std::string& name = dict.name(id);
    le::append_u32(names, static_cast<uint32_t>(name.size()));
    names += name;
  }
  if (!w.emit(SnapshotSectionType::kDictionary, error)) return false;

  // Runs of whole bitmaps, cut once a run passes the section size.
  TagId id = 0;
  while (id < tags) {
    auto& run = w.begin();
    le::append_u64(run, id);
    const std::size_t count_at = run.size();
    le::append_u64(run, 0);
    const TagId first = id;
    while (id < tags && w.payload_bytes() < section_bytes) {
      const Bitmap& b = view.tag(id).bits;
      le::append_u64(run, roaring_bitmap_portable_size_in_bytes(b.get()));
      append_bitmap(run, b);
      ++id;
    }
    le::store_u64(run.data() + count_at, id - first);
    if (!w.emit(SnapshotSectionType::kTags, error)) return false;
  }

  if (!view.entries().empty()) {
    auto& entries = w.begin();
    le::append_u64(entries, view.entries().size());
    for (const auto& [key, text] : view.entries()) {
      le::append_u32(entries, static_cast<uint32_t>(key.size()));
      entries += key;
      le::append_u32(entries, static_cast<uint32_t>(text.size()));
      entries += text;
    }
    if (!w.emit(SnapshotSectionType::kEntries, error)) return false;
  }
  return true;
}

// ---- Reading ---------------------------------------------------------------

struct SectionHeader {
  uint32_t type = 0;
  uint32_t flags = 0;
  uint64_t length = 0;
  uint32_t crc = 0;
};

// Bounds-checked little-endian reads from a section payload.
class Cursor {
 public:
  explicit Cursor(std::string_view in) : in_(in) {}
  [[nodiscard]] bool u8(uint8_t& v) {
    if (remaining() < 1) return false;
    v = static_cast<uint8_t>(in_[pos_]);
    pos_ += 1;
    return true;
  }
  [[nodiscard]] bool u32(uint32_t& v) {
    if (remaining() < 4) return false;
    v = le::load_u32(in_.data() + pos_);
    pos_ += 4;
    return true;
  }
  [[nodiscard]] bool u64(uint64_t& v) {
    if (remaining() < 8) return false;
    v = le::load_u64(in_.data() + pos_);
    pos_ += 8;
    return true;
  }
  [[nodiscard]] bool bytes(uint64_t n, std::string_view& v) {
    if (remaining() < n) return false;
    v = in_.substr(pos_, static_cast<std::size_t>(n));
    pos_ += static_cast<std::size_t>(n);
    return true;
  }
  // A u32 length and that many bytes.
  [[nodiscard]] bool string(std::string_view& v) {
    uint32_t n = 0;
    return u32(n) && bytes(n, v);
  }
  [[nodiscard]] std::size_t remaining() const { return in_.size() - pos_; }
  [[nodiscard]] std::size_t pos() const { return pos_; }

 private:
  std::string_view in_;
  std::size_t pos_ = 0;
};

bool decode_bitmap(std::string_view bytes, uint64_t ordinals, Bitmap& out, std::string& why) {
  roaring_bitmap_t* r = deserialize_portable_bitmap(bytes);
  if (r == nullptr) {
    why = "not a valid portable Roaring bitmap";
    return false;
  }
  Bitmap b(r);
  const std::size_t used = roaring_bitmap_portable_size_in_bytes(r);
  if (used != bytes.size()) {
    why = "the bitmap takes " + std::to_string(used) + " bytes of a " + std::to_string(bytes.size()) + "-byte slot";
    return false;
  }
  // Unsorted or overlapping containers pass CRoaring's bounds checks but
  // corrupt memory in later operations (portable_bitmap.h).
  if (!well_formed_bitmap(r)) {
    why = "a malformed portable Roaring bitmap (unsorted, overlapping or miscounted container)";
    return false;
  }
  if (!b.empty() && roaring_bitmap_maximum(r) >= ordinals) {
    why = "holds ordinal " + std::to_string(roaring_bitmap_maximum(r)) + " but only " + std::to_string(ordinals) +
          " ordinals exist";
    return false;
  }
  out = std::move(b);
  return true;
}

// Rebuilds the user table on a second thread while the bitmaps load. With
// 10M users the ID->ordinal inserts are ~1 s of cache misses (one a user in
// a 160 MB hash table), about as long as decoding every tag bitmap, so
// overlapping the two nearly halves a load on two cores.
class UserRebuild {
 public:
  // Collects a run of IDs (bytes of u64s) in ordinal order; `where` locates
  // the run for error messages.
  void add(const char* bytes, uint64_t n, std::string where) {
    runs_.push_back(Run{ids_.size(), std::move(where)});
    const std::size_t at = ids_.size();
    ids_.resize(at + static_cast<std::size_t>(n));
    std::memcpy(ids_.data() + at, bytes, static_cast<std::size_t>(n) * sizeof(UserId));
  }

  // Starts building from every ID collected, once. Only the ordinals in
  // `universe` and not in `uidless` (both must outlive the build) are
  // findable by ID: the others are erased users (their ID is 0 since erasure
  // reached snapshots, the real one in older files) and users without a uid
  // (ID 0, which must find a real uid-0 user or nobody), and keep their
  // ordinal only.
  void start(const Bitmap& universe, const Bitmap& uidless) {
    thread_ = std::jthread([this, &universe, &uidless] {
      table_ = std::make_shared<UserTable>();
      // Handing out ordinals in order rebuilds the exact table; an ID that
      // is already there is a duplicate.
      Bitmap hidden(roaring_bitmap_flip(universe.get(), 0, ids_.size()));
      roaring_bitmap_or_inplace(hidden.get(), uidless.get());
      roaring_uint32_iterator_t it;
      roaring_init_iterator(hidden.get(), &it);
      std::size_t at = 0;
      while (at < ids_.size()) {
        const std::size_t live_end = it.has_value ? it.current_value : ids_.size();
        const std::size_t added = table_->append_new(std::span<const UserId>(ids_).subspan(at, live_end - at));
        if (added != live_end - at) {
          stopped_at_ = at + added;
          return;
        }
        at = live_end;
        std::size_t dead = 0;
        for (; it.has_value && it.current_value == at + dead; roaring_advance_uint32_iterator(&it)) ++dead;
        if (table_->append_erased(dead) != dead) {
          stopped_at_ = at;
          return;
        }
        at += dead;
      }
      stopped_at_ = ids_.size();
    });
  }
  [[nodiscard]] bool started() const { return thread_.joinable(); }

  // Waits for the build. False with the location of the first duplicate ID.
  [[nodiscard]] bool finish(std::shared_ptr<UserTable>& out, const Bitmap& universe, const Bitmap& uidless,
                            std::string& error) {
    if (!started()) start(universe, uidless);
    thread_.join();
    if (stopped_at_ != ids_.size()) {
      const auto run = std::upper_bound(runs_.begin(), runs_.end(), stopped_at_,
                                        [](std::size_t at, const Run& r) { return at < r.first_index; }) -
                       1;
      const UserId id = ids_[stopped_at_];
      const auto earlier = table_->find(id);
      error =
          run->where + ": external ID " + std::to_string(id) + " at ordinal " + std::to_string(stopped_at_) +
          (earlier ? " already has ordinal " + std::to_string(*earlier) : std::string(" does not fit the user table"));
      return false;
    }
    out = std::move(table_);
    return true;
  }

 private:
  struct Run {
    std::size_t first_index;
    std::string where;
  };
  std::vector<UserId> ids_;
  std::vector<Run> runs_;
  std::shared_ptr<UserTable> table_;
  std::size_t stopped_at_ = 0;
  std::jthread thread_;  // last: joined before the data it uses is destroyed
};

// One ids section for IdRestore: its place and header (read and checked),
// its payload not read yet.
struct IdsSection {
  uint32_t index = 0;
  uint64_t offset = 0;  // of the section header
  SectionHeader header;
};

// Links the ids sections' keys into new IdSpaces on threads of their own
// while the reading thread goes on to the dictionary and tags, which no
// longer wait for the links (10M users with 13.6M IDs in three spaces, at
// ~250-350 ns a link() on the reading thread: 7-9 s to ready, 4.2-5.9 s
// this way, on the project's loaded 2-core machine). The reading thread hands
// over runs of consecutive ids sections by header only. A run is cut into
// jobs, one a space (its sections in a row), by the name and width at the
// head of each payload; kThreads threads take the jobs in file order, read
// each payload, check its CRC and every pair as the reader always did, and
// link the pairs with IdSpace::link_many. Spaces are independent objects, so
// two of them fill at once; a job continuing the space of an earlier job (a
// space's runs split by another section) waits for it. No reader of the
// spaces exists until the read succeeds, but link_many keeps IdSpace's
// reader-side guarantees anyway.
//
// The heads are read before their CRC is checked, to plan the jobs only:
// once a section's CRC passes, its head is the one planned with (or the job
// fails as "changed while read"), so the checks that span sections --
// a space's runs consecutive, one width, names distinct -- come out as when
// every section was checked in order, and are reported at the section where
// the reader always reported them.
//
// Errors keep the file's order: each job stops at its first problem, and
// the one reported is the earliest in the file; a job whose sections all
// come after it stops early. Any later failure of the read (in a later
// section, or the checks after the last) gives way to it, as the reader
// stops at the first bad section.
//
// Memory: a section buffer a thread (tuning::kSnapshotSectionBytes each),
// besides the reading thread's. Reads `universe` and `ordinals` (set before
// the first ids section, never changed after) and `file`; all must outlive
// join().
class IdRestore {
 public:
  // Linking threads. At 10M users a space's thread spends ~half its time in
  // the kernel zeroing the space's fresh huge pages, the rest mostly in
  // link_many (perf): ~2.9 s of CPU for the three spaces on one thread, more
  // than the reading thread's ~1.4 s and the user table's ~0.5 s together,
  // so one thread was the critical path; with two, the largest space (OAIDs,
  // ~1.5 s) is, and the work spreads over both cores. On the loaded 2-core
  // machine one and two threads measured alike (3.2-5.1 s to ready); a
  // third would add a 64 MiB buffer for no core to run on.
  static constexpr std::size_t kThreads = 2;

  IdRestore() = default;
  IdRestore(const IdRestore&) = delete;
  IdRestore& operator=(const IdRestore&) = delete;
  ~IdRestore() {
    {
      const std::lock_guard lock(mutex_);
      stop_ = true;
    }
    changed_.notify_all();
    // threads_ go first (declared last): joined before the rest.
  }

  // Plans a run of consecutive ids sections as jobs and queues them,
  // starting the threads at the first run. Reads the head of each payload.
  void add(const File& file, const std::string& path, uint64_t ordinals, const Bitmap& universe,
           const std::vector<IdsSection>& run) {
    std::vector<Job> planned = plan(file, run);
    {
      const std::lock_guard lock(mutex_);
      for (Job& job : planned) jobs_.push_back(std::move(job));
    }
    changed_.notify_all();
    if (threads_.empty()) {
      outside_ = Bitmap(roaring_bitmap_flip(universe.get(), 0, ordinals));
      for (std::size_t t = 0; t < kThreads; ++t) {
        threads_.emplace_back([this, &file, &path, ordinals, &universe] {
          Linker linker(file, path, ordinals, universe, outside_);
          work(linker);
        });
      }
    }
  }

  // Whether a queued section was refused (the reader may stop early).
  [[nodiscard]] bool failed() const { return first_refused_.load(std::memory_order_acquire) != kNone; }

  // Waits until every queued section is linked, or the earliest refused
  // one is known: false with its located error then. Rethrows what linking
  // threw (std::bad_alloc).
  [[nodiscard]] bool join(std::string& error) {
    {
      const std::lock_guard lock(mutex_);
      closed_ = true;
    }
    changed_.notify_all();
    for (std::jthread& t : threads_) t.join();
    threads_.clear();
    if (thrown_) std::rethrow_exception(std::exchange(thrown_, nullptr));
    const Job* first = nullptr;
    for (const Job& job : jobs_) {
      if (!job.error.empty() && (first == nullptr || job.error_index < first->error_index)) first = &job;
    }
    if (first == nullptr) return true;
    error = first->error;
    return false;
  }

  // The spaces, in file order, after a successful join().
  [[nodiscard]] std::vector<IdSpaces::Named> take() { return std::move(spaces_); }

 private:
  static constexpr uint32_t kNone = UINT32_MAX;

  // A space's sections in a row, as planned from their heads.
  struct Job {
    std::vector<IdsSection> sections;
    std::vector<std::size_t> reserve;  // a section's hint (see plan), 0 but at the first
    std::string name;                  // planned: the first section's head
    uint32_t width = 0;
    bool planned = false;            // the head is a space's: name and width apply
    std::shared_ptr<IdSpace> space;  // null when not planned or conflicting
    std::string conflict;            // why the space may not go on here
    std::size_t after = SIZE_MAX;    // the job whose space this one continues
    bool done = false;               // guarded by mutex_
    std::string error;               // the first refusal, located
    uint32_t error_index = kNone;    // its section
  };

  // A linking thread's own state.
  struct Linker {
    Linker(const File& f, const std::string& p, uint64_t n, const Bitmap& u, const Bitmap& outside)
        : file(f), path(p), ordinals(n), universe(u) {
      roaring_init_iterator(outside.get(), &next_outside);
    }
    const File& file;
    const std::string& path;
    const uint64_t ordinals;
    const Bitmap& universe;
    roaring_uint32_iterator_t next_outside{};
    Ordinal member_from = 0, member_to = 0;  // a stretch within the universe
    std::unique_ptr<char[]> buf;
    std::size_t capacity = 0;
    std::vector<std::string_view> keys;
    std::vector<Ordinal> owners;

    // Whether o (below the ordinal count) is in the universe. Keys come by
    // ascending ordinal and few users are erased, so the answer holds for
    // the whole stretch of the universe around o: one lookup a stretch.
    bool in_universe(Ordinal o) {
      if (o >= member_from && o < member_to) return true;
      if (!roaring_bitmap_contains(universe.get(), o)) return false;
      roaring_move_uint32_iterator_equalorlarger(&next_outside, o);
      member_from = o;
      member_to = next_outside.has_value ? next_outside.current_value : static_cast<Ordinal>(ordinals);
      return true;
    }
  };

  // The jobs of a run, by the name and width at the head of each payload
  // (read here, unchecked), with the checks that span sections done on
  // those; the reading thread's, like spaces_ and space_names_. Each job's
  // first section carries a hint to size the hash once: the keys its space
  // gets from the job, each section's count bounded by what it can hold (as
  // in link_section), so a bad one costs at most a hash sized by the file,
  // never a failure. Reserving section by section instead grew the hash at
  // every 64 MiB section, ~1.5 re-inserts a key.
  std::vector<Job> plan(const File& file, const std::vector<IdsSection>& run) {
    std::vector<Job> out;
    const std::size_t first_index = jobs_.size();  // only this thread adds jobs
    std::string head;
    for (const IdsSection& s : run) {
      std::string_view name;
      uint32_t width = 0;
      uint64_t n = 0;
      Cursor c(read_head(file, s, head));
      const bool planned =
          c.string(name) && c.u32(width) && c.u64(n) && !name.empty() && width <= IdSpace::kMaxVariableKey;
      Job* job = out.empty() ? nullptr : &out.back();
      if (job == nullptr || !planned || !job->planned || job->name != name || job->width != width) {
        job = &out.emplace_back();
        job->planned = planned;
        if (planned) {
          job->name = name;
          job->width = width;
          claim(*job, first_index + out.size() - 1);
        }
      }
      job->sections.push_back(s);
      job->reserve.push_back(0);
      if (planned) {
        const uint64_t room = (s.header.length - c.pos()) / (sizeof(uint32_t) + (width == 0 ? 2 : width));
        job->reserve.front() += static_cast<std::size_t>(std::min(n, room));
      }
    }
    return out;
  }

  // The head of a section's payload: the name's length, the name, the width
  // and the count, or what there is of them. A read error leaves it empty
  // (the job meets it again, and reports it).
  static std::string_view read_head(const File& file, const IdsSection& s, std::string& head) {
    const uint64_t at = s.offset + kSectionHeaderBytes;
    const uint64_t length = s.header.length;
    std::string ignored;
    char prefix[4];
    if (length < sizeof prefix || !file.pread_exact(prefix, sizeof prefix, at, ignored)) return {};
    const uint64_t want = std::min<uint64_t>(length, sizeof prefix + uint64_t{le::load_u32(prefix)} + 4 + 8);
    head.resize(static_cast<std::size_t>(want));
    if (!file.pread_exact(head.data(), head.size(), at, ignored)) return {};
    return head;
  }

  // The space a planned job (jobs_[index], once queued) fills: a new one,
  // the last one again (its runs go on after another section: the job waits
  // for the one before), or none, with the reason.
  void claim(Job& job, std::size_t index) {
    if (!spaces_.empty() && spaces_.back().name == job.name) {
      if (spaces_.back().space->key_bytes() != job.width) {
        job.conflict = concat({"space ", printable(job.name), " continues with key width ", std::to_string(job.width),
                               ", begun with ", std::to_string(spaces_.back().space->key_bytes())});
        return;
      }
      job.space = spaces_.back().space;
      job.after = last_job_of_space_;
    } else if (space_names_.contains(job.name)) {
      job.conflict =
          concat({"space ", printable(job.name), " again after another space's runs (its runs must be consecutive)"});
      return;
    } else {
      space_names_.emplace(job.name);
      job.space = std::make_shared<IdSpace>(job.width);
      spaces_.push_back(IdSpaces::Named{job.name, job.space});
    }
    last_job_of_space_ = index;
  }

  void work(Linker& linker) {
    try {
      for (;;) {
        Job* job = nullptr;
        {
          std::unique_lock lock(mutex_);
          changed_.wait(lock, [this] { return stop_ || closed_ || next_job_ < jobs_.size(); });
          if (stop_ || next_job_ == jobs_.size()) return;
          job = &jobs_[next_job_++];
          if (job->after != SIZE_MAX) {
            const Job& before = jobs_[job->after];
            changed_.wait(lock, [&] { return stop_ || before.done; });
            if (stop_) return;
          }
        }
        run(linker, *job);
        {
          const std::lock_guard lock(mutex_);
          job->done = true;
        }
        changed_.notify_all();
      }
    } catch (...) {
      {
        const std::lock_guard lock(mutex_);
        if (!thrown_) thrown_ = std::current_exception();
        stop_ = true;
      }
      first_refused_.store(0, std::memory_order_release);
      changed_.notify_all();
    }
  }

  void run(Linker& linker, Job& job) {
    for (std::size_t k = 0; k < job.sections.size(); ++k) {
      const IdsSection& s = job.sections[k];
      // Sections after a refused one are not the reader's business.
      if (s.index > first_refused_.load(std::memory_order_acquire) || stopping()) return;
      std::string why;
      if (!check_section(linker, job, k, why)) {
        job.error = std::move(why);
        job.error_index = s.index;
        for (uint32_t seen = first_refused_.load(std::memory_order_relaxed);
             s.index < seen && !first_refused_.compare_exchange_weak(seen, s.index, std::memory_order_acq_rel);) {
        }
        return;
      }
    }
  }

  [[nodiscard]] bool stopping() {
    const std::lock_guard lock(mutex_);
    return stop_;
  }

  // Section k of the job: read, checked, linked. False with `why` located.
  bool check_section(Linker& linker, Job& job, std::size_t k, std::string& why) {
    const IdsSection& s = job.sections[k];
    if (s.header.length > linker.capacity) {
      linker.capacity = static_cast<std::size_t>(s.header.length);
      linker.buf = std::make_unique_for_overwrite<char[]>(linker.capacity);
    }
    if (!linker.file.pread_exact(linker.buf.get(), static_cast<std::size_t>(s.header.length),
                                 s.offset + kSectionHeaderBytes, why)) {
      return false;
    }
    const std::string_view payload(linker.buf.get(), static_cast<std::size_t>(s.header.length));
    const std::string where =
        linker.path + ": section " + std::to_string(s.index) + " (ids) at offset " + std::to_string(s.offset);
    if (crc32c(payload.data(), payload.size()) != s.header.crc) {
      why = where + ": payload checksum mismatch";
      return false;
    }
    if (!link_section(linker, job, k, payload, why)) {
      why = where + ": " + why;
      return false;
    }
    return true;
  }

  // One run of a space's links: a key already another user's (or
  // repeated), an ordinal outside the universe, a key of the wrong length or
  // a space cut into non-consecutive runs is refused. Pairs are checked a
  // batch at a time, then linked together; the first pair to fail a check or
  // its link is the one reported, as when each was linked as it was read.
  bool link_section(Linker& linker, Job& job, std::size_t k, std::string_view p, std::string& why) {
    Cursor c(p);
    std::string_view name;
    uint32_t width = 0;
    uint64_t n = 0;
    if (!c.string(name) || !c.u32(width) || !c.u64(n)) {
      why = "malformed run header";
      return false;
    }
    if (name.empty()) {
      why = "a space without a name";
      return false;
    }
    if (width > IdSpace::kMaxVariableKey) {
      why = concat({"space ", printable(name), ": key width ", std::to_string(width), " (at most ",
                    std::to_string(IdSpace::kMaxVariableKey), ")"});
      return false;
    }
    if (!job.planned || name != job.name || width != job.width) {
      why = "the section changed while it was read";
      return false;
    }
    if (!job.conflict.empty()) {
      why = job.conflict;
      return false;
    }
    IdSpace& space = *job.space;
    // A pair takes at least its ordinal and a key (a length byte and one byte
    // when variable): a count the payload cannot hold is refused before the
    // hash is sized for it.
    const std::size_t least = sizeof(uint32_t) + (width == 0 ? 2 : width);
    if (n > c.remaining() / least) {
      why = concat({"space ", printable(name), ": ", std::to_string(n), " pairs in ", std::to_string(c.remaining()),
                    " bytes (room for at most ", std::to_string(c.remaining() / least), ")"});
      return false;
    }
    space.reserve(space.size() + std::max(static_cast<std::size_t>(n), job.reserve[k]), c.remaining());
    const auto pair = [&](uint64_t i, std::size_t at) {
      return concat({"pair ", std::to_string(i), " (payload offset ", std::to_string(at), "): "});
    };
    std::vector<std::string_view>& keys = linker.keys;
    std::vector<Ordinal>& owners = linker.owners;
    std::string refused;  // the first pair failing a check, if any
    for (uint64_t i = 0; i < n && refused.empty();) {
      keys.clear();
      owners.clear();
      const uint64_t first = i;
      for (; i < n && keys.size() < kLinkBatch; ++i) {
        const std::size_t at = c.pos();
        uint32_t o = 0;
        uint8_t length = static_cast<uint8_t>(width);
        std::string_view key;
        if (!c.u32(o) || (width == 0 && !c.u8(length)) || !c.bytes(length, key)) {
          refused = concat({pair(i, at), "runs past the end of the section"});
        } else if (length == 0) {
          refused = concat({pair(i, at), "an empty key"});
        } else if (o >= linker.ordinals) {
          refused = concat({pair(i, at), "ordinal ", std::to_string(o), " but only ", std::to_string(linker.ordinals),
                            " ordinals exist"});
        } else if (!linker.in_universe(o)) {
          refused = concat(
              {pair(i, at), "ordinal ", std::to_string(o), " is not in the universe (an erased user keeps no ID)"});
        }
        if (!refused.empty()) break;
        keys.push_back(key);
        owners.push_back(o);
      }
      // The pairs before the refused one are linked first: a link refused
      // among them comes first in the file.
      const std::size_t linked = space.link_many(keys, owners);
      if (linked == keys.size()) continue;
      const std::string_view key = keys[linked];
      const Ordinal o = owners[linked];
      const auto at = static_cast<std::size_t>(key.data() - p.data()) - sizeof(uint32_t) - (width == 0 ? 1 : 0);
      const auto owner = space.find(key);
      if (owner == o) {
        why = concat({pair(first + linked, at), "repeats a key of ordinal ", std::to_string(o)});
      } else {
        why = concat({pair(first + linked, at), "the key of ordinal ", std::to_string(o),
                      " is already linked to ordinal ", owner ? std::to_string(*owner) : std::string("?")});
      }
      return false;
    }
    if (!refused.empty()) {
      why = std::move(refused);
      return false;
    }
    if (c.remaining() != 0) {
      why = concat({std::to_string(c.remaining()), " bytes after the last pair"});
      return false;
    }
    return true;
  }

  // Pairs checked, then linked, together: enough to keep link_many's
  // prefetches ahead, few enough to stay in cache.
  static constexpr std::size_t kLinkBatch = 4096;

  // The reading thread's (planning), then the caller's after join().
  std::vector<IdSpaces::Named> spaces_;  // in file order
  std::set<std::string, std::less<>> space_names_;
  std::size_t last_job_of_space_ = SIZE_MAX;  // in jobs_: the last job of spaces_.back()
  Bitmap outside_;                            // the ordinals not in the universe; read-only once threads run
  // Shared.
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Job> jobs_;                        // in file order; references stay valid as it grows
  std::size_t next_job_ = 0;                    // the next to take
  bool closed_ = false;                         // no more runs
  bool stop_ = false;                           // the read is abandoned
  std::exception_ptr thrown_;                   // the first exception a thread met
  std::atomic<uint32_t> first_refused_{kNone};  // the earliest refused section known
  std::vector<std::jthread> threads_;           // last: joined before the data they use is destroyed
};

// Assembles the index from verified sections, checking that they fit
// together. Each method returns false with `why` (no location: the caller
// adds file, section and offset).
class Assembler {
 public:
  bool meta(std::string_view p, std::string& why) {
    Cursor c(p);
    if (!c.u64(ordinals_) || !c.u64(tags_) || c.remaining() != 0) {
      why = "malformed (" + std::to_string(p.size()) + " bytes, expected 16)";
      return false;
    }
    if (ordinals_ > UINT32_MAX || tags_ >= kNoTag) {
      why = "impossible counts: " + std::to_string(ordinals_) + " users, " + std::to_string(tags_) + " tags";
      return false;
    }
    have_meta_ = true;
    // No reserve(tags_) here: the counts are only checksummed, not proven,
    // and a forged meta claiming 2^32-2 tags made that a 34 GB allocation
    // (std::bad_alloc, crowdd terminated instead of refusing the file; found
    // by tests/fuzz/fuzz_snapshot.cc). tags() reserves what its payload holds.
    return true;
  }

  bool users(std::string_view p, const std::string& where, std::string& why) {
    Cursor c(p);
    uint64_t first = 0;
    uint64_t n = 0;
    if (!c.u64(first) || !c.u64(n) || c.remaining() / sizeof(UserId) != n || c.remaining() % sizeof(UserId) != 0) {
      why = "malformed run header or length";
      return false;
    }
    if (users_.started()) {
      why = "a run of users after every ordinal was covered";
      return false;
    }
    if (first != next_ordinal_ || n > ordinals_ - next_ordinal_) {
      why = "run of " + std::to_string(n) + " users from ordinal " + std::to_string(first) + ", expected ordinal " +
            std::to_string(next_ordinal_) + " of " + std::to_string(ordinals_);
      return false;
    }
    users_.add(p.data() + c.pos(), n, where);
    next_ordinal_ += n;
    if (next_ordinal_ == ordinals_ && have_universe_) users_.start(universe_, uidless_);
    return true;
  }

  bool universe(std::string_view p, std::string& why) {
    if (have_universe_) {
      why = "a second universe section";
      return false;
    }
    if (!decode_bitmap(p, ordinals_, universe_, why)) return false;
    have_universe_ = true;
    if (next_ordinal_ == ordinals_ && have_meta_ && !users_.started()) users_.start(universe_, uidless_);
    return true;
  }

  // Before the universe, hence before the user table's rebuild, which hides
  // these users from lookups by ID. Checked against the universe in finish().
  bool uidless(std::string_view p, std::string& why) {
    if (have_uidless_) {
      why = "a second uidless section";
      return false;
    }
    if (have_universe_) {
      why = "comes after the universe section (the user table is rebuilt from both)";
      return false;
    }
    if (!decode_bitmap(p, ordinals_, uidless_, why)) return false;
    have_uidless_ = true;
    return true;
  }

  // ids sections come after the universe; those in a row are handed to the
  // linking thread together (IdRestore). Before the universe, one is read
  // and refused here, in order.
  [[nodiscard]] bool have_universe() const { return have_universe_; }
  void ids(const File& file, const std::string& path, const std::vector<IdsSection>& run) {
    ids_.add(file, path, ordinals_, universe_, run);
  }
  [[nodiscard]] bool ids_failed() const { return ids_.failed(); }
  // Waits for every ID link; false with the first refused section's error.
  [[nodiscard]] bool join_ids(std::string& error) { return ids_.join(error); }

  bool dictionary(std::string_view p, std::string& why) {
    if (dictionary_) {
      why = "a second dictionary section";
      return false;
    }
    Cursor c(p);
    uint64_t n = 0;
    if (!c.u64(n) || n != tags_) {
      why = "holds " + std::to_string(n) + " names but the index has " + std::to_string(tags_) + " tags";
      return false;
    }
    // Every name takes at least its 4-byte length: a count the payload cannot
    // hold is refused before anything is reserved for it (see meta()).
    if (n > c.remaining() / sizeof(uint32_t)) {
      why = "holds " + std::to_string(n) + " names but its " + std::to_string(p.size()) +
            " bytes have room for at most " + std::to_string(c.remaining() / sizeof(uint32_t));
      return false;
    }
    std::vector<std::string> names;
    names.reserve(static_cast<std::size_t>(n));
    for (uint64_t i = 0; i < n; ++i) {
      uint32_t len = 0;
      std::string_view name;
      if (!c.u32(len) || !c.bytes(len, name)) {
        why = "name of tag " + std::to_string(i) + " runs past the end of the section";
        return false;
      }
      names.emplace_back(name);
    }
    if (c.remaining() != 0) {
      why = std::to_string(c.remaining()) + " bytes after the last name";
      return false;
    }
    dictionary_ = TagDictionary::from_names(std::move(names));
    if (!dictionary_) {
      why = "a tag name appears twice";
      return false;
    }
    return true;
  }

  bool tags(std::string_view p, std::string& why) {
    Cursor c(p);
    uint64_t first = 0;
    uint64_t n = 0;
    if (!c.u64(first) || !c.u64(n)) {
      why = "malformed run header";
      return false;
    }
    if (first != bitmaps_.size() || n > tags_ - bitmaps_.size()) {
      why = "run of " + std::to_string(n) + " tags from TagId " + std::to_string(first) + ", expected TagId " +
            std::to_string(bitmaps_.size()) + " of " + std::to_string(tags_);
      return false;
    }
    // At most what the payload can hold: a length and an 8-byte (empty)
    // bitmap a tag. A larger n fails below, at the first bitmap missing.
    bitmaps_.reserve(bitmaps_.size() + static_cast<std::size_t>(std::min<uint64_t>(n, c.remaining() / 16)));
    for (uint64_t i = 0; i < n; ++i) {
      const uint64_t id = first + i;
      uint64_t len = 0;
      std::string_view bytes;
      if (!c.u64(len) || !c.bytes(len, bytes)) {
        why = "bitmap of TagId " + std::to_string(id) + " runs past the end of the section";
        return false;
      }
      Bitmap b;
      if (!decode_bitmap(bytes, ordinals_, b, why)) {
        why = "TagId " + std::to_string(id) + " (payload offset " + std::to_string(c.pos() - len) + "): " + why;
        return false;
      }
      bitmaps_.push_back(std::move(b));
    }
    if (c.remaining() != 0) {
      why = std::to_string(c.remaining()) + " bytes after the last bitmap";
      return false;
    }
    return true;
  }

  [[nodiscard]] bool have_meta() const { return have_meta_; }

  // The parts that are missing, or empty when all are there.
  [[nodiscard]] std::string missing() const {
    if (!have_meta_) return "the meta section";
    if (next_ordinal_ != ordinals_) {
      return "users from ordinal " + std::to_string(next_ordinal_) + " of " + std::to_string(ordinals_);
    }
    if (!have_universe_) return "the universe section";
    if (!dictionary_) return "the dictionary section";
    if (bitmaps_.size() != tags_)
      return "tags from TagId " + std::to_string(bitmaps_.size()) + " of " + std::to_string(tags_);
    return {};
  }

  // Waits for the user table; false with `error` (located) on a duplicate ID.
  [[nodiscard]] bool finish(SnapshotContents& out, std::string& error) {
    // Every writer keeps each tag within the universe (an erased user leaves
    // every bitmap). A tag holding an ordinal outside it would count and
    // export a user who is not there -- an erased one, as ID 0 -- and no
    // DELETE could reach that bit, so such a file is refused. Checked while
    // the user table is still being rebuilt on the other thread. Tags are
    // within the ordinals (decode_bitmap), so "within the universe" is "meets
    // no ordinal outside it": an intersect test against the few erased
    // ordinals, where CRoaring's is_subset walks a dense tag bit by bit
    // against the universe's runs (0.8 s at 10M users).
    const Bitmap outside_universe(roaring_bitmap_flip(universe_.get(), 0, ordinals_));
    // A user without a uid is a user: one outside the universe would be an
    // erased user counted as a member of nothing, a writer bug.
    if (roaring_bitmap_intersect(uidless_.get(), outside_universe.get())) {
      Bitmap outside(roaring_bitmap_and(uidless_.get(), outside_universe.get()));
      error = concat({"the uidless section holds ordinal ", std::to_string(roaring_bitmap_minimum(outside.get())),
                      ", which is not in the universe"});
      return false;
    }
    for (std::size_t id = 0; id < bitmaps_.size(); ++id) {
      if (roaring_bitmap_intersect(bitmaps_[id].get(), outside_universe.get())) {
        Bitmap outside(roaring_bitmap_and(bitmaps_[id].get(), outside_universe.get()));
        error = "TagId " + std::to_string(id) + " holds ordinal " +
                std::to_string(roaring_bitmap_minimum(outside.get())) + ", which is not in the universe";
        return false;  // the rebuild is joined when the assembler goes
      }
    }
    if (!users_.finish(out.users, universe_, uidless_, error)) return false;
    out.dictionary = std::move(dictionary_);
    out.tags = std::move(bitmaps_);
    out.universe = std::move(universe_);
    out.uidless = std::move(uidless_);
    out.entries = IndexView::Entries(entries_);
    out.spaces = IdSpaces().with(ids_.take());
    return true;
  }

  bool entries(std::string_view p, std::string& why) {
    Cursor c(p);
    uint64_t n = 0;
    if (!entries_.empty() || !c.u64(n)) {
      why = entries_.empty() ? "malformed count" : "a second entries section";
      return false;
    }
    for (uint64_t i = 0; i < n; ++i) {
      std::string_view key;
      std::string_view text;
      if (!c.string(key) || !c.string(text)) {
        why = "entry " + std::to_string(i) + " of " + std::to_string(n) + " runs past the section";
        return false;
      }
      if (!entries_.emplace(std::string(key), std::string(text)).second) {
        why = "entry " + std::to_string(i) + " repeats a key";
        return false;
      }
    }
    if (c.remaining() != 0) {
      why = std::to_string(c.remaining()) + " bytes after the last entry";
      return false;
    }
    return true;
  }

 private:
  bool have_meta_ = false;
  uint64_t ordinals_ = 0;
  uint64_t tags_ = 0;
  uint64_t next_ordinal_ = 0;
  bool have_universe_ = false;
  Bitmap universe_;
  bool have_uidless_ = false;
  Bitmap uidless_;
  std::map<std::string, std::string, std::less<>> entries_;  // keys checked for repeats, then one build
  std::shared_ptr<const TagDictionary> dictionary_;
  std::vector<Bitmap> bitmaps_;
  IdRestore ids_;      // its thread, like the next, is joined before the rest is destroyed
  UserRebuild users_;  // last: its thread is joined before the rest is destroyed
};

struct Header {
  uint32_t version = 0;
  uint32_t sections = 0;
  uint64_t first_live_segment = 0;
};

bool read_header(const File& f, uint64_t size, Header& out, std::string& error) {
  const std::string& path = f.path();
  if (size < kHeaderBytes) {
    error = path + ": the file is " + std::to_string(size) + " bytes, shorter than its " +
            std::to_string(kHeaderBytes) + "-byte header: truncated";
    return false;
  }
  char h[kHeaderBytes];
  if (!f.pread_exact(h, sizeof h, 0, error)) return false;
  if (std::string_view(h, kMagic.size()) != kMagic) {
    error = path + ": not a crowd snapshot (bad magic at offset 0)";
    return false;
  }
  if (le::load_u32(h + 36) != crc32c(h, 36)) {
    error = path + ": header checksum mismatch (offset 0)";
    return false;
  }
  const uint32_t version = le::load_u32(h + 8);
  if (version != 1 && version != kFormatVersion) {
    error = path + ": snapshot format version " + std::to_string(version) +
            " is not supported (this build reads versions 1 and " + std::to_string(kFormatVersion) + ")";
    return false;
  }
  out.version = version;
  const uint64_t declared = le::load_u64(h + 24);
  if (declared != size) {
    error = path + ": the file is " + std::to_string(size) + " bytes but its header says " + std::to_string(declared) +
            (size < declared ? ": truncated" : ": something was appended");
    return false;
  }
  out.sections = le::load_u32(h + 12);
  out.first_live_segment = le::load_u64(h + 16);
  return true;
}

bool read_section_header(const File& f, uint64_t size, uint64_t offset, uint32_t index, SectionHeader& out,
                         std::string& error) {
  const std::string where = f.path() + ": section " + std::to_string(index) + " at offset " + std::to_string(offset);
  if (size - offset < kSectionHeaderBytes) {
    error = where + ": the file ends inside the section header";
    return false;
  }
  char h[kSectionHeaderBytes];
  if (!f.pread_exact(h, sizeof h, offset, error)) return false;
  if (le::load_u32(h + 20) != crc32c(h, 20)) {
    error = where + ": section header checksum mismatch";
    return false;
  }
  out.type = le::load_u32(h);
  out.flags = le::load_u32(h + 4);
  out.length = le::load_u64(h + 8);
  out.crc = le::load_u32(h + 16);
  if (out.length > size - offset - kSectionHeaderBytes) {
    error = where + " (" + section_name(out.type) + "): a " + std::to_string(out.length) +
            "-byte payload runs past the end of the file";
    return false;
  }
  return true;
}

bool known_type(uint32_t type) {
  return type >= static_cast<uint32_t>(SnapshotSectionType::kMeta) &&
         type <= static_cast<uint32_t>(SnapshotSectionType::kIds);
}

}  // namespace

SnapshotIds encode_snapshot_ids(const IndexView& view, std::size_t section_bytes) {
  SnapshotIds out;
  (void)walk_ids(
      view, section_bytes, [&out]() -> std::string& { return out.runs.emplace_back(); }, [] { return true; });
  return out;
}

bool write_snapshot(const IndexView& view, uint64_t first_live_segment, uint64_t covered_lsn, const std::string& dir,
                    SnapshotInfo& info, std::string& error, std::size_t section_bytes, const SnapshotIds* ids) {
  const auto started = std::chrono::steady_clock::now();
  const std::string final_path = dir + "/" + std::string(kSnapshotFileName);
  const std::string tmp_path = dir + "/" + std::string(kSnapshotTempFileName);
  File f;
  // 0600: the snapshot holds every user's ID and tags (docs/security.md).
  if (!File::open(tmp_path, O_WRONLY | O_CREAT | O_TRUNC, 0600, f, error)) return false;

  auto fail = [&] {
    ::unlink(tmp_path.c_str());
    return false;
  };
  // The header is written last, once the section count and size are known.
  std::string header(kHeaderBytes, '\0');
  if (!f.write_all(header, error)) return fail();
  SectionWriter w(f);
  if (!write_sections(view, ids, covered_lsn, section_bytes, w, error)) return fail();

  const uint64_t size = kHeaderBytes + w.bytes();
  header.replace(0, kMagic.size(), kMagic);
  le::store_u32(header.data() + 8, kFormatVersion);
  le::store_u32(header.data() + 12, w.sections());
  le::store_u64(header.data() + 16, first_live_segment);
  le::store_u64(header.data() + 24, size);
  le::store_u32(header.data() + 32, 0);
  le::store_u32(header.data() + 36, crc32c(header.data(), 36));
  if (!f.pwrite_all(header, 0, error) || !f.datasync(error) || !f.close(error)) return fail();
  if (::rename(tmp_path.c_str(), final_path.c_str()) != 0) {
    error = io_error_message(tmp_path, "rename to " + final_path, errno);
    return fail();
  }
  // After the rename the new snapshot is the live one whether or not this
  // sync succeeds; a failure means only that a crash might bring back the
  // old one (still consistent: its log segments are deleted only after this
  // returns true).
  if (!sync_directory(dir, error)) return false;

  info.bytes = size;
  info.micros = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started).count());
  info.path = final_path;
  return true;
}

bool read_snapshot(const std::string& path, SnapshotContents& out, std::string& error) {
  File f;
  if (!File::open(path, O_RDONLY, 0, f, error)) return false;
  uint64_t size = 0;
  if (!f.size(size, error)) return false;
  Header header;
  if (!read_header(f, size, header, error)) return false;

  Assembler assembler;
  SnapshotContents result;
  std::unique_ptr<char[]> buf;
  std::size_t capacity = 0;
  uint64_t offset = kHeaderBytes;
  bool have_log = false;
  // A failure in a section gives way to one the ID linking thread found in
  // an earlier ids section (IdRestore).
  const auto fail = [&] {
    (void)assembler.join_ids(error);
    return false;
  };
  for (uint32_t i = 0; i < header.sections && !assembler.ids_failed(); ++i) {
    SectionHeader s;
    if (!read_section_header(f, size, offset, i, s, error)) return fail();
    const std::string located =
        "section " + std::to_string(i) + " (" + section_name(s.type) + ") at offset " + std::to_string(offset);
    const std::string where = path + ": " + located;
    const uint64_t payload_at = offset + kSectionHeaderBytes;
    if (s.type == static_cast<uint32_t>(SnapshotSectionType::kIds) && assembler.have_universe()) {
      // This ids section and those right after it go to the linking thread
      // by header; the ones after are read again below if their header is
      // bad, to be refused in order.
      std::vector<IdsSection> run{IdsSection{i, offset, s}};
      offset = payload_at + s.length;
      for (SectionHeader next; i + 1 < header.sections; offset += kSectionHeaderBytes + next.length) {
        std::string ignored;
        if (!read_section_header(f, size, offset, i + 1, next, ignored) ||
            next.type != static_cast<uint32_t>(SnapshotSectionType::kIds)) {
          break;
        }
        run.push_back(IdsSection{++i, offset, next});
      }
      assembler.ids(f, path, run);
      continue;
    }
    offset = payload_at + s.length;
    if (!known_type(s.type)) {
      if ((s.flags & kRequired) != 0) {
        error = where + ": required by the file but unknown to this build (written by a newer crowd?)";
        return fail();
      }
      result.notes.push_back("skipped optional " + section_name(s.type) + " section at offset " +
                             std::to_string(payload_at - kSectionHeaderBytes));
      continue;
    }
    if (!assembler.have_meta() && s.type != static_cast<uint32_t>(SnapshotSectionType::kMeta)) {
      error = where + ": comes before the meta section";
      return fail();
    }
    // Sections are cut at tuning::kSnapshotSectionBytes, so one buffer of
    // about that size serves every section; no zero-filling, it is read over.
    if (s.length > capacity) {
      capacity = static_cast<std::size_t>(s.length);
      buf = std::make_unique_for_overwrite<char[]>(capacity);
    }
    if (!f.pread_exact(buf.get(), static_cast<std::size_t>(s.length), payload_at, error)) return fail();
    const std::string_view payload(buf.get(), static_cast<std::size_t>(s.length));
    if (crc32c(payload.data(), payload.size()) != s.crc) {
      error = where + ": payload checksum mismatch";
      return fail();
    }
    std::string why;
    bool ok = false;
    switch (static_cast<SnapshotSectionType>(s.type)) {
      case SnapshotSectionType::kMeta:
        if (assembler.have_meta()) {
          why = "a second meta section";
        } else {
          ok = assembler.meta(payload, why);
        }
        break;
      case SnapshotSectionType::kUsers:
        ok = assembler.users(payload, located, why);
        break;
      case SnapshotSectionType::kUniverse:
        ok = assembler.universe(payload, why);
        break;
      case SnapshotSectionType::kDictionary:
        ok = assembler.dictionary(payload, why);
        break;
      case SnapshotSectionType::kTags:
        ok = assembler.tags(payload, why);
        break;
      case SnapshotSectionType::kEntries:
        ok = assembler.entries(payload, why);
        break;
      case SnapshotSectionType::kUidless:
        ok = assembler.uidless(payload, why);
        break;
      case SnapshotSectionType::kIds:  // after the universe, handed over above
        why = "comes before the universe section";
        break;
      case SnapshotSectionType::kLog:
        if (have_log) {
          why = "a second log section";
        } else if (payload.size() != 8) {
          why = "a log section of " + std::to_string(payload.size()) + " bytes (8 expected)";
        } else {
          have_log = true;
          result.covered_lsn = le::load_u64(payload.data());
          ok = true;
        }
        break;
    }
    if (!ok) {
      error = where + ": " + why;
      return fail();
    }
  }
  if (!assembler.join_ids(error)) return false;
  if (offset != size) {
    error = path + ": " + std::to_string(size - offset) + " bytes after the last of " +
            std::to_string(header.sections) + " sections (offset " + std::to_string(offset) + ")";
    return false;
  }
  if (const auto missing = assembler.missing(); !missing.empty()) {
    error = path + ": incomplete snapshot: " + missing + " missing";
    return false;
  }
  if (header.version >= 2 && !have_log) {
    error = path + ": incomplete snapshot: the log section missing";
    return false;
  }
  if (!assembler.finish(result, error)) {
    error = path + ": " + error;
    return false;
  }
  result.first_live_segment = header.first_live_segment;
  result.version = header.version;
  result.lsn_known = have_log;
  out = std::move(result);
  return true;
}

bool list_snapshot_sections(const std::string& path, std::vector<SnapshotSection>& out, std::string& error) {
  out.clear();
  File f;
  if (!File::open(path, O_RDONLY, 0, f, error)) return false;
  uint64_t size = 0;
  if (!f.size(size, error)) return false;
  Header header;
  if (!read_header(f, size, header, error)) return false;
  uint64_t offset = kHeaderBytes;
  for (uint32_t i = 0; i < header.sections; ++i) {
    SectionHeader s;
    if (!read_section_header(f, size, offset, i, s, error)) return false;
    out.push_back(SnapshotSection{s.type, s.flags, offset, s.length});
    offset += kSectionHeaderBytes + s.length;
  }
  return true;
}

}  // namespace crowd
