// POST /v1/membership (issue 15): which of a list of saved crowds and tags
// each of a batch of IDs is in -- the ad server's per-request question.
//
//   {"lookups": [{"id_type": "oaid", "id": "…"}, …],   or ["…", …] with "id_type"
//    "crowds": ["name", …], "tags": ["tag", …], "hash"?: false}
//   → {"results": [{"found": true, "crowds": ["name"], "tags": []}, …], "found": n, "took_us": n}
//
// Hot path: no JSON tree beyond simdjson's parse of the request, the keys
// of a run of lookups of one type found at once (IdSpace::find_many), and
// one contains() a (lookup, crowd). A
// crowd or tag smaller than --min-export-size is refused: membership of a
// tiny crowd singles people out as surely as its ID list.
#include <string>
#include <vector>

#include "identity/id_codec.h"
#include "identity/id_types.h"
#include "index/system_view.h"
#include "server/api.h"
#include "server/json_fields.h"
#include "server/json_writer.h"
#include "server/request_json.h"

namespace crowd::server {
namespace {

// At most this many lookups and crowds + tags a request: a batch from one ad
// request, not an export (which has /v1/ids).
constexpr std::size_t kMaxLookups = 10'000;
constexpr std::size_t kMaxSets = 100;

struct Set {
  std::string_view name;
  const Bitmap* bits;
};

FieldReader keep(simdjson::dom::element& into) {
  return [&into](std::string_view, simdjson::dom::element v) -> std::optional<ApiError> {
    into = v;
    return std::nullopt;
  };
}

}  // namespace

Reply Api::membership(const Request& req, Call& call, Clock::time_point start) {
  simdjson::dom::element lookups;
  std::string default_type;
  std::vector<std::string> crowd_names;
  std::vector<std::string> tag_names;
  bool hash = false;
  const JsonField fields[] = {
      {"lookups", kRequired, keep(lookups)},
      {"id_type", kOptional, string_into(default_type)},
      {"crowds", kOptional, strings_into(crowd_names, kMaxSets)},
      {"tags", kOptional, strings_into(tag_names, kMaxSets)},
      {"hash", kOptional, bool_into(hash)},
  };
  if (auto e = read_body_fields(req.body(), fields)) return error_reply(*e);
  if (crowd_names.size() + tag_names.size() > kMaxSets) {
    return error_reply(bad_request("at most " + std::to_string(kMaxSets) + " crowds and tags together"));
  }
  simdjson::dom::array list;
  if (lookups.get(list)) return error_reply(bad_request("lookups: must be an array"));
  if (list.size() > kMaxLookups) {
    return error_reply(bad_request("lookups: at most " + std::to_string(kMaxLookups) + " a request"));
  }

  const auto view = store_.view();
  const identity::IdTypes types(*view);
  const SystemView system = view->system();
  std::vector<Set> sets;
  for (const auto& name : crowd_names) {
    const auto crowd = system.saved_crowd(name);
    if (!crowd) return error_reply(not_found("no saved crowd " + name));
    sets.push_back(Set{name, &view->tag(crowd->id).bits});
  }
  const std::size_t crowd_count = sets.size();
  for (const auto& name : tag_names) {
    const auto id = view->find_tag(name);
    if (!id) return error_reply({http::status::bad_request, "unknown_tag", "unknown tag \"" + name + "\"", {}, {}, {}});
    sets.push_back(Set{name, &view->tag(*id).bits});
  }
  for (const auto& s : sets) {
    if (s.bits->cardinality() < options_.min_export_size) {
      return error_reply(crowd_too_small(std::string(s.name) + " has fewer than " +
                                         std::to_string(options_.min_export_size) +
                                         " users; membership checks need at least that many (--min-export-size)"));
    }
  }

  // Every lookup is read and encoded before anything is answered (a bad
  // one is a 400 naming its position); then each run of lookups of one
  // type is looked up at once (IdSpace::find_many overlaps the cache
  // misses: ~55 ns a key against ~260 for one find at 10M keys).
  struct Lookup {
    const identity::DefinedIdType* type;  // null: a uid
    UserId uid;
    std::size_t key_end;  // in keys
  };
  std::vector<Lookup> parsed;
  parsed.reserve(list.size());
  std::string keys;
  const identity::DefinedIdType* last_type = nullptr;
  identity::EncodedId key;
  std::size_t index = 0;
  for (const auto entry : list) {
    std::string_view type_name = default_type;
    std::string_view text;
    simdjson::dom::object obj;
    if (!entry.get(obj)) {
      if (obj["id"].get(text) || (obj.size() == 2 && obj["id_type"].get(type_name)) || obj.size() > 2 ||
          (obj.size() == 2 && type_name.empty())) {
        return error_reply(bad_request("lookups[" + std::to_string(index) +
                                       "]: expected {\"id_type\": string, \"id\": string} or a string"));
      }
    } else if (entry.get(text)) {
      return error_reply(bad_request("lookups[" + std::to_string(index) + "]: expected a string or an object"));
    }
    if (type_name.empty()) {
      return error_reply(bad_request("lookups[" + std::to_string(index) + "]: no id_type (give one per lookup or "
                                     "for the request)"));
    }
    if (type_name == identity::kBuiltInUid) {
      const auto uid = parse_decimal_id(text);
      if (!uid) return error_reply(bad_request("lookups[" + std::to_string(index) + "]: a uid is a decimal u64"));
      parsed.push_back(Lookup{nullptr, *uid, keys.size()});
    } else {
      if (last_type == nullptr || last_type->type.name != type_name) last_type = types.find(type_name);
      if (last_type == nullptr || last_type->space == nullptr) {
        return error_reply(bad_request("lookups[" + std::to_string(index) + "]: unknown id_type '" +
                                       std::string(type_name) + "'"));
      }
      identity::encode_id_into(last_type->type, text, hash && identity::is_hashed(last_type->type.kind), key);
      if (!key.ok()) return error_reply(bad_request("lookups[" + std::to_string(index) + "]: " + key.error));
      keys += key.key;
      parsed.push_back(Lookup{last_type, 0, keys.size()});
    }
    ++index;
  }

  std::vector<std::optional<Ordinal>> owners(parsed.size());
  std::vector<std::string_view> run;
  for (std::size_t first = 0; first < parsed.size();) {
    std::size_t last = first + 1;
    while (last < parsed.size() && parsed[last].type == parsed[first].type) ++last;
    if (parsed[first].type == nullptr) {
      std::vector<UserId> uids;
      for (std::size_t i = first; i < last; ++i) uids.push_back(parsed[i].uid);
      store_.find_uids(uids, std::span(owners).subspan(first, last - first));
    } else {
      run.clear();
      for (std::size_t i = first; i < last; ++i) {
        const std::size_t begin = i == 0 ? 0 : parsed[i - 1].key_end;
        run.emplace_back(keys.data() + begin, parsed[i].key_end - begin);
      }
      parsed[first].type->space->find_many(run, std::span(owners).subspan(first, last - first));
    }
    first = last;
  }

  std::string body;
  body.reserve(64 + parsed.size() * (24 + 16 * sets.size()));
  JsonWriter w(body);
  w.raw("{\"results\":[");
  uint64_t found = 0;
  for (std::size_t i = 0; i < parsed.size(); ++i) {
    // Only users of this view: a newer write's user is not (IndexView::owner).
    const Ordinal o = owners[i].value_or(0);
    const bool user = owners[i].has_value() && o < view->ordinal_count() && view->universe().bits.contains(o);
    w.raw(i == 0 ? "{" : ",{").key("found").boolean(user);
    found += user;
    for (int part = 0; part < 2; ++part) {
      w.raw(",").key(part == 0 ? "crowds" : "tags").raw("[");
      bool first = true;
      const std::size_t begin = part == 0 ? 0 : crowd_count;
      const std::size_t end = part == 0 ? crowd_count : sets.size();
      for (std::size_t s = begin; user && s < end; ++s) {
        if (!sets[s].bits->contains(o)) continue;
        w.raw(first ? "" : ",").string(sets[s].name);
        first = false;
      }
      w.raw("]");
    }
    w.raw("}");
  }
  w.raw("],").key("found").number(found).raw(",").key("took_us").number(micros_since(start)).raw("}");
  call.users = found;
  return json_reply(http::status::ok, std::move(body));
}

}  // namespace crowd::server
