// crowd-gen: writes the synthetic DMP population as NDJSON, one user a line,
// in the ingest format ({"id": 7, "tags": ["a", "b"], "values": {...},
// "events": [...]}, server/user_tags_json.h), deterministic for a given
// --seed: ingesting it builds the same index as `crowdd --demo`. --ids adds
// each user's device IDs and phones (data/synthetic_ids.h); --crm-list
// writes a brand's CRM upload instead; --stats prints the data set's shape.
#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "data/synthetic_blocks.h"
#include "data/synthetic_ids.h"
#include "data/synthetic_population.h"
#include "identity/digest.h"
#include "identity/id_type.h"

namespace {

constexpr std::string_view kUsage = R"(usage: crowd-gen [--users N] [--seed S] [--out FILE] [--personas FILE]
                 [--threads N] [--ids] [--stats]
       crowd-gen --crm-list BRAND [--plain] [--users N] [--seed S] [--out FILE]
       crowd-gen --print-id-types

Writes the synthetic DMP population (the data set of `crowdd --demo`) as
NDJSON, one user a line: {"id":7,"tags":["gender:female","age:25-29",...]},
and for buyers "values":{"orders_365d":4,"spend_90d":310,"recency_days":12,
"clv":2150}, and for users in a brand's AIPL funnel on the snapshot days
"events":[{"tag":"aipl_daily:brand_x:A","day":"2026-10-15"},...], to which
the dated behaviour of the head categories adds events on the 180 days
before --as-of: {"tag":"cat:2520377:buy","day":"2026-11-30"}. IDs above
2^53 are written as decimal strings. The output depends only on --seed,
--users and --as-of (a smaller population is a prefix of a larger one).

  --users N        users to generate (default 1000000, at most 4294967295)
  --seed S         population seed (default 42)
  --as-of DATE     the day dated behaviour counts back from, YYYY-MM-DD
                   (default today, UTC: what `crowdd --demo` uses)
  --out FILE       write here instead of standard output
  --personas FILE  also write the hidden persona of every user as CSV, with a
                   header line: id,persona
  --threads N      threads generating and writing (default 2)
  --ids            add each user's IDs (those `crowdd --demo` links):
                   "ids":{"oaid":"...","idfa":"...","phone_sha256":"<hex>"},
                   a list where a user has two; users without IDs have no
                   "ids". OAIDs are lower-case UUIDs, IDFAs upper-case ones,
                   phones the lower-case SHA-256 hex of "86" + the number.
                   The server must know the three ID types before it ingests
                   such a file (`crowdd --demo` defines them itself); define
                   them first with the bodies --print-id-types prints:
                     crowd-gen --print-id-types | while read -r name body; do
                       curl -sS -X PUT -H "Authorization: Bearer $TOKEN" \
                         -d "$body" "$URL/v1/id-types/$name"; done
                   then POST the file to /v1/ingest as application/x-ndjson.
  --print-id-types print the demo's three ID types, one line each: the name,
                   a space, and the JSON body of PUT /v1/id-types/{name};
                   then exit
  --crm-list BRAND instead of users, write BRAND's CRM upload (BRAND as in
                   the tag member:BRAND, e.g. brand_x; an unknown one lists
                   them): one phone_sha256 ID a line, the
                   first phone of each member who has one, plus numbers that
                   match nobody (30% of the lines), shuffled. Matched against
                   the same --users and --seed, about 70% of it matches.
  --plain          with --crm-list: the 11-digit numbers themselves instead
                   of their SHA-256, to be hashed by the server ("hash": true)
  --stats          print generation speed, tag densities, the behaviour
                   mix, value ranges and AIPL flows instead of the data
  --help           this text

The CRM list's summary (members, lines, matching) goes to standard error.

Exit status: 0 done, 1 I/O error, 2 bad command line.
)";

constexpr std::size_t kFlushBytes = std::size_t{1} << 20;
constexpr uint64_t kMaxExactJsonInteger = uint64_t{1} << 53;

struct Options {
  crowd::synth::PopulationOptions population;
  int64_t as_of = 0;  // days since 1970-01-01; set from the clock when not given
  std::string out;
  std::string personas;
  unsigned threads = 2;
  bool ids = false;
  bool print_id_types = false;
  std::optional<std::string> crm_brand;
  bool plain = false;
  bool stats = false;
};

// "YYYY-MM-DD" <-> days since 1970-01-01, by <chrono>'s calendar (data/
// does not depend on query/).
std::optional<int64_t> parse_day(std::string_view text) {
  int y = 0;
  unsigned m = 0, d = 0;
  char tail = 0;
  if (text.size() != 10 || std::sscanf(std::string(text).c_str(), "%4d-%2u-%2u%c", &y, &m, &d, &tail) != 3) {
    return std::nullopt;
  }
  const std::chrono::year_month_day ymd{std::chrono::year{y}, std::chrono::month{m}, std::chrono::day{d}};
  if (!ymd.ok()) return std::nullopt;
  return std::chrono::sys_days(ymd).time_since_epoch().count();
}

std::string day_text(int64_t days) {
  const std::chrono::year_month_day ymd{std::chrono::sys_days{std::chrono::days{days}}};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()));
  return buf;
}

[[noreturn]] void usage_error(const std::string& message) {
  std::fprintf(stderr, "crowd-gen: %s (see --help)\n", message.c_str());
  std::exit(2);
}

template <typename T>
T parse_number(std::string_view flag, std::string_view text, T max) {
  T value{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty() || value > max) {
    usage_error(std::string(flag) + " wants a whole number up to " + std::to_string(max) + ", not '" +
                std::string(text) + "'");
  }
  return value;
}

Options parse_options(int argc, char** argv) {
  Options o;
  bool as_of_given = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    std::optional<std::string_view> inline_value;
    if (const auto eq = arg.find('='); arg.starts_with("--") && eq != std::string_view::npos) {
      inline_value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    }
    const auto value = [&]() -> std::string_view {
      if (inline_value) return *inline_value;
      if (i + 1 >= argc) usage_error(std::string(arg) + " needs a value");
      return argv[++i];
    };
    const auto no_value = [&] {
      if (inline_value) usage_error(std::string(arg) + " takes no value");
    };
    if (arg == "--help" || arg == "-h") {
      no_value();
      std::fwrite(kUsage.data(), 1, kUsage.size(), stdout);
      std::exit(0);
    } else if (arg == "--users") {
      o.population.users = parse_number<uint64_t>(arg, value(), 0xffffffffULL);
    } else if (arg == "--seed") {
      o.population.seed = parse_number<uint64_t>(arg, value(), ~uint64_t{0});
    } else if (arg == "--as-of") {
      const auto day = parse_day(value());
      if (!day) usage_error("--as-of wants a date YYYY-MM-DD");
      o.as_of = *day;
      as_of_given = true;
    } else if (arg == "--threads") {
      o.threads = parse_number<unsigned>(arg, value(), 256);
      if (o.threads == 0) usage_error("--threads wants at least 1");
    } else if (arg == "--out") {
      o.out = value();
      if (o.out.empty()) usage_error("--out wants a file name");
    } else if (arg == "--personas") {
      o.personas = value();
      if (o.personas.empty()) usage_error("--personas wants a file name");
    } else if (arg == "--ids") {
      no_value();
      o.ids = true;
    } else if (arg == "--print-id-types") {
      no_value();
      o.print_id_types = true;
    } else if (arg == "--crm-list") {
      o.crm_brand = std::string(value());
      if (o.crm_brand->empty()) usage_error("--crm-list wants a brand");
    } else if (arg == "--plain") {
      no_value();
      o.plain = true;
    } else if (arg == "--stats") {
      no_value();
      o.stats = true;
    } else {
      usage_error("unknown argument '" + std::string(arg) + "'");
    }
  }
  if (o.plain && !o.crm_brand) usage_error("--plain goes with --crm-list");
  if (o.crm_brand && (o.ids || o.stats || !o.personas.empty())) {
    usage_error("--crm-list writes only the list: no --ids, --stats or --personas");
  }
  if (o.ids && o.stats) usage_error("--ids and --stats do not go together");
  if (!as_of_given) {
    o.as_of = std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now()).time_since_epoch().count();
  }
  return o;
}

// A JSON string literal for a tag: quotes, backslashes and control bytes
// escaped; UTF-8 passes through untouched (JSON text is UTF-8).
std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += ch;
    }
  }
  out += '"';
  return out;
}

// An output file with a large buffer; remembers the first error.
class Output {
 public:
  explicit Output(const std::string& path) : path_(path.empty() ? "standard output" : path) {
    file_ = path.empty() ? stdout : std::fopen(path.c_str(), "wb");
    if (file_ == nullptr) fail();
    buffer_.reserve(kFlushBytes + 4096);
  }
  Output(const Output&) = delete;
  Output& operator=(const Output&) = delete;

  std::string& buffer() { return buffer_; }
  // Writes the buffer out once it is large. False after any error.
  bool maybe_flush() { return buffer_.size() < kFlushBytes || flush(); }
  bool flush() {
    if (ok_ && !buffer_.empty() && std::fwrite(buffer_.data(), 1, buffer_.size(), file_) != buffer_.size()) fail();
    buffer_.clear();
    return ok_;
  }
  bool close() {
    flush();
    if (file_ != nullptr && std::fflush(file_) != 0) fail();
    if (file_ != nullptr && file_ != stdout && std::fclose(file_) != 0) fail();
    file_ = nullptr;
    return ok_;
  }
  [[nodiscard]] bool ok() const { return ok_; }
  [[nodiscard]] const std::string& error() const { return error_; }

 private:
  void fail() {
    if (ok_) error_ = path_ + ": " + std::strerror(errno);
    ok_ = false;
  }
  std::string path_;
  std::FILE* file_ = nullptr;
  std::string buffer_;
  bool ok_ = true;
  std::string error_;
};

template <typename Int>
void append_number(std::string& out, Int v) {
  char buf[24];
  const auto end = std::to_chars(buf, buf + sizeof buf, v).ptr;
  out.append(buf, end);
}

// A user's facts as the ingest format's "values" and "events" fields (each
// left out when empty), starting with a comma. `quoted` holds the JSON
// literal of every vocabulary tag.
// `behaviour_days[k]` is the date k days before --as-of.
void append_facts(std::string& line, std::span<const int64_t> values,
                  std::span<const crowd::synth::UserFacts::Event> events,
                  std::span<const crowd::synth::UserFacts::DatedBehaviour> behaviour,
                  const std::vector<std::string>& quoted, const std::vector<std::string>& behaviour_days) {
  namespace world = crowd::synth::world;
  if (!values.empty()) {
    line += ",\"values\":{";
    for (std::size_t a = 0; a < values.size(); ++a) {
      if (a) line += ',';
      line += '"';
      line += world::kAttributeNames[a];
      line += "\":";
      append_number(line, values[a]);
    }
    line += '}';
  }
  if (events.empty() && behaviour.empty()) return;
  line += ",\"events\":[";
  bool first = true;
  const auto event = [&](uint32_t tag, std::string_view day) {
    if (!first) line += ',';
    first = false;
    line += "{\"tag\":";
    line += quoted[tag];
    line += ",\"day\":\"";
    line += day;
    line += "\"}";
  };
  for (const auto& e : events) event(e.tag, world::kSnapshotDays[e.snapshot].date);
  for (const auto& b : behaviour) event(b.tag, behaviour_days[b.days_ago]);
  line += ']';
}

// A user's IDs as the ingest format's "ids" field (left out when the user
// has none), starting with a comma: one ID a type as a string, two as a list.
void append_ids(std::string& line, const crowd::synth::UserIds& ids) {
  namespace synth = crowd::synth;
  if (ids.count() == 0) return;
  line += ",\"ids\":{";
  bool first_type = true;
  const auto type = [&](std::string_view name, std::size_t n, const auto& append_one) {
    if (n == 0) return;
    if (!first_type) line += ',';
    first_type = false;
    line += '"';
    line += name;
    line += "\":";
    if (n > 1) line += '[';
    for (std::size_t k = 0; k < n; ++k) {
      if (k) line += ',';
      line += '"';
      append_one(k);
      line += '"';
    }
    if (n > 1) line += ']';
  };
  // UUIDs and hex need no JSON escaping.
  type(synth::kOaidType, ids.oaid_count, [&](std::size_t k) { line += synth::as_text(ids.oaids()[k]); });
  type(synth::kIdfaType, ids.idfa_count, [&](std::size_t k) { line += synth::as_text(ids.idfas()[k]); });
  type(synth::kPhoneSha256Type, ids.phone_count,
       [&](std::size_t k) { crowd::identity::append_hex(synth::phone_sha256(ids.phones()[k]), line); });
  line += '}';
}

int write_ndjson(const Options& o, const crowd::synth::Population& population) {
  std::vector<std::string> quoted;
  for (const auto& tag : population.vocabulary()) quoted.push_back(json_string(tag));
  std::vector<std::string> behaviour_days;
  for (int k = 0; k < crowd::synth::world::kBehaviourDays; ++k) behaviour_days.push_back(day_text(o.as_of - k));
  std::optional<crowd::synth::SyntheticIds> id_model;
  if (o.ids) id_model.emplace(population);
  crowd::synth::UserIds ids;

  Output out(o.out);
  std::unique_ptr<Output> personas;
  if (!o.personas.empty()) {
    personas = std::make_unique<Output>(o.personas);
    personas->buffer() += "id,persona\n";
  }
  if (!out.ok() || (personas && !personas->ok())) {
    std::fprintf(stderr, "crowd-gen: %s\n", (out.ok() ? personas->error() : out.error()).c_str());
    return 1;
  }

  const bool complete = crowd::synth::generate_in_order(population, o.threads, [&](const auto& block) {
    for (std::size_t k = 0; k < block.size(); ++k) {
      std::string& line = out.buffer();
      const uint64_t id = block.ids[k];
      line += "{\"id\":";
      if (id > kMaxExactJsonInteger) line += '"';
      append_number(line, id);
      if (id > kMaxExactJsonInteger) line += '"';
      if (id_model) {
        id_model->user(block.first + k, block.tags_of(k), ids);
        append_ids(line, ids);
      }
      line += ",\"tags\":[";
      bool first = true;
      for (const uint32_t t : block.tags_of(k)) {
        if (!first) line += ',';
        first = false;
        line += quoted[t];
      }
      line += ']';
      append_facts(line, block.values_of(k), block.events_of(k), block.behaviour_of(k), quoted, behaviour_days);
      line += "}\n";
      if (personas) {
        std::string& row = personas->buffer();
        append_number(row, id);
        row += ',';
        row += crowd::synth::Population::persona_name(population.persona(block.first + k));
        row += '\n';
        if (!personas->maybe_flush()) return false;
      }
      if (!out.maybe_flush()) return false;
    }
    return true;
  });
  const bool out_ok = out.close();
  const bool personas_ok = !personas || personas->close();
  if (!complete || !out_ok || !personas_ok) {
    std::fprintf(stderr, "crowd-gen: %s\n", (out_ok ? personas->error() : out.error()).c_str());
    return 1;
  }
  return 0;
}

// --print-id-types: the demo's ID types as PUT /v1/id-types/{name} bodies.
int print_id_types() {
  namespace identity = crowd::identity;
  for (const auto& t : crowd::synth::demo_id_types()) {
    std::string line = t.name;
    line += " {\"kind\":\"";
    line += identity::id_kind_name(t.kind);
    line += '"';
    if (t.kind == identity::IdKind::kString) {
      line += ",\"max_length\":";
      append_number(line, t.max_length);
    }
    if (identity::is_hashed(t.kind)) {
      line += ",\"normalization\":\"";
      line += identity::normalization_name(t.normalization);
      line += '"';
    }
    if (t.normalization == identity::Normalization::kPhone) {
      line += ",\"default_country_code\":\"";
      line += t.default_country_code;
      line += '"';
    }
    line += "}\n";
    std::fwrite(line.data(), 1, line.size(), stdout);
  }
  return std::fflush(stdout) == 0 ? 0 : 1;
}

// --crm-list: a brand's CRM upload, one phone a line (hex digests, or plain
// numbers with --plain).
int write_crm_list(const Options& o, const crowd::synth::Population& population) {
  namespace synth = crowd::synth;
  const auto list = synth::crm_list(population, *o.crm_brand, 0.3, o.threads);
  if (!list) {
    std::string known;
    for (const auto& b : synth::world::brands()) {
      if (!known.empty()) known += ", ";
      known += b.name;
    }
    usage_error("--crm-list: no brand '" + *o.crm_brand + "' (brands: " + known + ")");
  }
  Output out(o.out);
  for (const auto& phone : list->phones) {
    std::string& line = out.buffer();
    if (o.plain) {
      line += synth::as_text(phone);
    } else {
      crowd::identity::append_hex(synth::phone_sha256(phone), line);
    }
    line += '\n';
    if (!out.maybe_flush()) break;
  }
  if (!out.close()) {
    std::fprintf(stderr, "crowd-gen: %s\n", out.error().c_str());
    return 1;
  }
  std::fprintf(stderr,
               "crowd-gen: CRM list of member:%s: %llu members, %llu lines: %llu of members' phones, %llu matching "
               "nobody (%.1f%% should match)\n",
               o.crm_brand->c_str(), static_cast<unsigned long long>(list->members),
               static_cast<unsigned long long>(list->phones.size()), static_cast<unsigned long long>(list->matching),
               static_cast<unsigned long long>(list->unmatched),
               100.0 * static_cast<double>(list->matching) / static_cast<double>(std::max<std::size_t>(list->phones.size(), 1)));
  return 0;
}

// --stats: one timed single-threaded pass of pure generation, then a pass
// counting every tag (an event's plain tag once a user, as ingest sets it)
// and the facts.
int print_stats(const Options& o, const crowd::synth::Population& population) {
  namespace world = crowd::synth::world;
  using Clock = std::chrono::steady_clock;
  const auto& vocabulary = population.vocabulary();
  std::vector<uint32_t> tags;
  tags.reserve(256);
  crowd::synth::UserFacts facts;
  crowd::UserId id = 0;
  uint64_t checksum = 0;
  const auto t0 = Clock::now();
  const std::clock_t c0 = std::clock();
  for (uint64_t i = 0; i < population.users(); ++i) {
    population.user(i, id, tags);
    checksum += id + tags.size();
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  // CPU time too: on a shared machine wall time also counts other processes.
  const double cpu_seconds = static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC;
  // Again with facts() (given the tags, as generate_block calls it): the
  // difference is the facts' cost.
  const std::clock_t f0 = std::clock();
  for (uint64_t i = 0; i < population.users(); ++i) {
    population.user(i, id, tags);
    population.facts(i, tags, facts);
    checksum += facts.events.size() + static_cast<uint64_t>(facts.values[0]);
  }
  const double facts_cpu_seconds =
      std::max(0.0, static_cast<double>(std::clock() - f0) / CLOCKS_PER_SEC - cpu_seconds);

  std::vector<uint64_t> count(vocabulary.size());
  uint64_t assignments = 0, buyers = 0, events = 0, zero_spend = 0;
  // Per attribute, users by value: exact percentiles in memory bounded by the
  // distinct values (a few hundred thousand), not by the users.
  std::array<std::map<int64_t, uint64_t>, world::kAttributes> values;
  // AIPL flow over all brands: [earlier][later], state 0 none, 1..4 A I P L.
  std::array<std::array<uint64_t, 5>, 5> flow{};
  for (uint64_t i = 0; i < population.users(); ++i) {
    population.user(i, id, tags);
    for (const uint32_t t : tags) ++count[t];
    assignments += tags.size();
    population.facts(i, tags, facts);
    uint32_t last = UINT32_MAX;
    for (const auto& e : facts.events) {
      if (e.tag != last) {
        ++count[e.tag];
        ++assignments;
        last = e.tag;
      }
    }
    events += facts.events.size();
    if (facts.has_values) {
      ++buyers;
      for (int a = 0; a < world::kAttributes; ++a) ++values[a][facts.values[a]];
      zero_spend += facts.values[1] == 0;
    }
    // Events come brand by brand, the earlier day first: pair them up.
    for (std::size_t k = 0; k < facts.events.size();) {
      const auto& e = facts.events[k];
      const std::string_view name = vocabulary[e.tag];
      const std::string_view brand = name.substr(0, name.rfind(':'));
      std::array<uint8_t, 2> st{};
      for (; k < facts.events.size(); ++k) {
        const std::string_view n2 = vocabulary[facts.events[k].tag];
        if (n2.substr(0, n2.rfind(':')) != brand) break;
        st[facts.events[k].snapshot] = static_cast<uint8_t>(1 + std::string_view("AIPL").find(n2.back()));
      }
      ++flow[st[0]][st[1]];
    }
  }
  const double n = static_cast<double>(std::max<uint64_t>(population.users(), 1));
  std::printf("users            %llu (seed %llu)\n", static_cast<unsigned long long>(population.users()),
              static_cast<unsigned long long>(population.seed()));
  std::printf("generation       %.3f s on one thread, %.0f users/s; %.3f s CPU, %.0f users/s (checksum %llx)\n",
              seconds, population.users() / std::max(seconds, 1e-9), cpu_seconds,
              population.users() / std::max(cpu_seconds, 1e-9), static_cast<unsigned long long>(checksum));
  std::printf("facts            %.3f s CPU more with facts(), %.3f us a user\n", facts_cpu_seconds,
              1e6 * facts_cpu_seconds / std::max<double>(population.users(), 1));
  std::printf("assignments      %llu, %.2f tags a user (users' tags, as ingest counts them)\n",
              static_cast<unsigned long long>(assignments), assignments / n);
  const auto used = std::count_if(count.begin(), count.end(), [](uint64_t c) { return c > 0; });
  std::printf("vocabulary       %zu tags, %lld held by someone\n", vocabulary.size(), static_cast<long long>(used));

  // Per field: tags, densest and rarest held tag.
  struct Field {
    uint64_t tags = 0;
    uint64_t assignments = 0;
    std::size_t max = 0, min = 0;
  };
  std::map<std::string, Field> fields;
  std::size_t densest = 0, rarest = 0;
  for (std::size_t t = 0; t < vocabulary.size(); ++t) {
    if (count[t] == 0) continue;
    auto& f = fields[vocabulary[t].substr(0, vocabulary[t].find(':'))];
    f.assignments += count[t];
    if (f.tags++ == 0 || count[t] > count[f.max]) f.max = t;
    if (f.tags == 1 || count[t] < count[f.min]) f.min = t;
    if (count[t] > count[densest] || count[densest] == 0) densest = t;
    if (count[t] < count[rarest] || count[rarest] == 0) rarest = t;
  }
  std::printf("density range    %.4f%% (%s) .. %.6f%% (%s)\n", 100 * count[densest] / n, vocabulary[densest].c_str(),
              100 * count[rarest] / n, vocabulary[rarest].c_str());
  std::printf("%-10s %6s %7s  %-28s %9s  %-28s %9s\n", "field", "tags", "a user", "densest", "%", "rarest", "%");
  for (const auto& [name, f] : fields) {
    std::printf("%-10s %6llu %7.2f  %-28s %9.4f  %-28s %9.5f\n", name.c_str(), static_cast<unsigned long long>(f.tags),
                f.assignments / n, vocabulary[f.max].c_str(), 100 * count[f.max] / n, vocabulary[f.min].c_str(),
                100 * count[f.min] / n);
  }
  std::array<uint64_t, 8> decades{};  // tags with density in [10^-(k+1), 10^-k)
  for (std::size_t t = 0; t < vocabulary.size(); ++t) {
    if (count[t] == 0) continue;
    const auto k = static_cast<std::size_t>(std::min(7.0, std::floor(-std::log10(count[t] / n))));
    ++decades[k];
  }
  std::printf("tags by density ");
  for (std::size_t k = 0; k < decades.size(); ++k) {
    std::printf(" [1e-%zu,1e-%zu):%llu", k + 1, k, static_cast<unsigned long long>(decades[k]));
  }
  std::printf("\n");

  // Behaviour mix of the cat tags (each stands for at least one event).
  std::map<std::string, uint64_t> mix;
  uint64_t cat_tags = 0;
  for (std::size_t t = 0; t < vocabulary.size(); ++t) {
    if (!vocabulary[t].starts_with("cat:")) continue;
    mix[vocabulary[t].substr(vocabulary[t].rfind(':') + 1)] += count[t];
    cat_tags += count[t];
  }
  std::printf("behaviour mix   ");
  for (const auto& [b, c] : mix) std::printf(" %s %.2f%%", b.c_str(), 100.0 * c / std::max<uint64_t>(cat_tags, 1));
  std::printf(" (log: pv 89.7 cart 5.5 fav 2.9 buy 2.0)\n");

  // Values: buyers only; percentiles per attribute.
  std::printf("values           %llu buyers (%.2f%%) hold all %d attributes; spend_90d 0 for %.2f%% of them\n",
              static_cast<unsigned long long>(buyers), 100 * buyers / n, world::kAttributes,
              100.0 * zero_spend / std::max<uint64_t>(buyers, 1));
  std::printf("%-13s %8s %8s %8s %8s %8s %8s %8s %10s\n", "attribute", "min", "p10", "p25", "p50", "p75", "p90", "p99",
              "max");
  for (int a = 0; a < world::kAttributes && buyers > 0; ++a) {
    // The value of rank q * (buyers - 1), counting from 0.
    const auto at = [&](double q) {
      const auto rank = static_cast<uint64_t>(q * static_cast<double>(buyers - 1));
      uint64_t seen = 0;
      for (const auto& [v, users] : values[a]) {
        seen += users;
        if (seen > rank) return static_cast<long long>(v);
      }
      return static_cast<long long>(values[a].rbegin()->first);
    };
    std::printf("%-13s %8lld %8lld %8lld %8lld %8lld %8lld %8lld %10lld\n", world::kAttributeNames[a].data(), at(0),
                at(0.10), at(0.25), at(0.50), at(0.75), at(0.90), at(0.99), at(1.0));
  }

  // AIPL flow between the snapshot days, over all brands: (user, brand)
  // pairs with a state on either day.
  std::printf("aipl_daily       %llu events; (user, brand) flow %.*s -> %.*s (rows earlier, columns later)\n",
              static_cast<unsigned long long>(events), static_cast<int>(world::kSnapshotDays[0].date.size()),
              world::kSnapshotDays[0].date.data(), static_cast<int>(world::kSnapshotDays[1].date.size()),
              world::kSnapshotDays[1].date.data());
  constexpr std::array<const char*, 5> kState = {"none", "A", "I", "P", "L"};
  std::printf("%-8s", "");
  for (const char* s : kState) std::printf(" %10s", s);
  std::printf("\n");
  for (std::size_t from = 0; from < 5; ++from) {
    std::printf("%-8s", kState[from]);
    for (std::size_t to = 0; to < 5; ++to) {
      if (from == 0 && to == 0) {
        std::printf(" %10s", "-");
      } else {
        std::printf(" %10llu", static_cast<unsigned long long>(flow[from][to]));
      }
    }
    std::printf("\n");
  }
  (void)o;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse_options(argc, argv);
  if (o.print_id_types) return print_id_types();
  const crowd::synth::Population population(o.population);
  if (o.crm_brand) return write_crm_list(o, population);
  return o.stats ? print_stats(o, population) : write_ndjson(o, population);
}
