// Results flowing back (数据回流, docs/activation.md):
//   POST /v1/feedback                      NDJSON events, one atomic write
//   GET  /v1/crowds/{name}/report?campaign=  figures per pushed version, lift vs hold-out
// The events' storage is activation/feedback.h's; the report sums it with
// query/attribute.h over the cohorts activation keeps.
#include <simdjson.h>

#include <cmath>
#include <mutex>
#include <vector>

#include "activation/activation.h"
#include "activation/feedback.h"
#include "activation/lift.h"
#include "identity/id_codec.h"
#include "identity/id_types.h"
#include "query/attribute.h"
#include "query/date.h"
#include "server/api.h"
#include "server/event_days.h"
#include "server/json_writer.h"
#include "server/request_json.h"
#include "server/saved_crowds.h"
#include "server/write_failure.h"

namespace crowd::server {
namespace {

using activation::EventKind;

// One line, read and checked; the views point into the request body or the
// line's own storage.
struct EventLine {
  uint64_t line = 0;
  std::string id_type;
  std::string id;
  EventKind kind = EventKind::kImpression;
  std::string campaign;
  int64_t day = 0;
  int64_t value_fen = 0;
  std::string event_id;
};

// A value in yuan with at most two decimals, as fen; nullopt otherwise.
std::optional<int64_t> fen_of(double yuan) {
  if (!std::isfinite(yuan) || yuan < 0 || yuan > 1e13) return std::nullopt;
  const double fen = std::round(yuan * 100.0);
  if (std::fabs(fen - yuan * 100.0) > 1e-6 * std::max(1.0, fen)) return std::nullopt;
  return static_cast<int64_t>(fen);
}

std::optional<ApiError> read_line(std::string_view text, uint64_t line, const EventDayLimit& latest, EventLine& e) {
  simdjson::dom::element doc;
  if (thread_json_parser().parse(text.data(), text.size()).get(doc)) return bad_line(line, "not JSON");
  simdjson::dom::object o;
  if (doc.get(o)) return bad_line(line, "an event is a JSON object");
  e.line = line;
  bool has_type = false, has_id = false, has_event = false, has_campaign = false, has_day = false, has_value = false;
  for (const auto member : o) {
    const std::string_view k = member.key;
    std::string_view s;
    if (k == "id_type" || k == "id" || k == "event" || k == "campaign" || k == "day" || k == "event_id") {
      if (k == "id" && !member.value.is_string()) {
        uint64_t n = 0;
        if (member.value.get(n)) return bad_line(line, "id must be a string or an unsigned integer");
        e.id = std::to_string(n);
        has_id = true;
        continue;
      }
      if (member.value.get(s)) return bad_line(line, std::string(k) + " must be a string");
      if (k == "id_type") {
        e.id_type = s;
        has_type = true;
      } else if (k == "id") {
        e.id = s;
        has_id = true;
      } else if (k == "event") {
        const auto kind = activation::parse_event(s);
        if (!kind) return bad_line(line, "event must be impression, click or order");
        e.kind = *kind;
        has_event = true;
      } else if (k == "campaign") {
        if (auto p = activation::campaign_problem(s)) return bad_line(line, "campaign: " + *p);
        e.campaign = s;
        has_campaign = true;
      } else if (k == "day") {
        const auto day = query::parse_day(s);
        if (!day) return bad_line(line, "day must be a date YYYY-MM-DD");
        if (auto p = latest.problem(*day)) return bad_line(line, "day: " + *p);
        e.day = *day;
        has_day = true;
      } else {
        if (s.empty() || s.size() > activation::kMaxEventIdBytes) return bad_line(line, "event_id has 1 to 128 bytes");
        e.event_id = s;
      }
    } else if (k == "value") {
      double v = 0;
      int64_t i = 0;
      uint64_t u = 0;
      std::optional<int64_t> fen;
      if (!member.value.get(v)) {
        fen = fen_of(v);
      } else if (!member.value.get(i)) {
        fen = fen_of(static_cast<double>(i));
      } else if (!member.value.get(u)) {
        fen = fen_of(static_cast<double>(u));
      }
      if (!fen) return bad_line(line, "value: an amount in yuan, at least 0, with at most two decimals");
      e.value_fen = *fen;
      has_value = true;
    } else {
      return bad_line(line, "unknown field \"" + std::string(k) +
                                "\" (expected id_type, id, event, campaign, day, value, event_id)");
    }
  }
  if (!has_type || !has_id || !has_event || !has_campaign || !has_day) {
    return bad_line(line, "an event needs id_type, id, event, campaign and day");
  }
  if (has_value && e.kind != EventKind::kOrder) return bad_line(line, "only an order has a value");
  return std::nullopt;
}

// The report's figures for one group of users.
struct Figures {
  uint64_t users = 0, reach = 0, impressions = 0, clicks = 0, orders = 0, buyers = 0;
  int64_t gmv_fen = 0;
};

uint64_t holders(const IndexView& view, const std::string& tag, const Bitmap& group) {
  const auto id = view.find_tag(tag);
  return id ? roaring_bitmap_and_cardinality(group.get(), view.tag(*id).bits.get()) : 0;
}

int64_t sum_of(const IndexView& view, const std::string& attribute, const Bitmap& group) {
  const auto stats = query::attribute_stats(view, attribute, group.get());
  return stats ? static_cast<int64_t>(stats->sum) : 0;
}

Figures figures(const IndexView& view, std::string_view campaign, const Bitmap& group) {
  Figures f;
  f.users = group.cardinality();
  f.reach = holders(view, activation::event_tag(EventKind::kImpression, campaign), group);
  f.buyers = holders(view, activation::event_tag(EventKind::kOrder, campaign), group);
  f.impressions =
      static_cast<uint64_t>(sum_of(view, activation::event_counter(EventKind::kImpression, campaign), group));
  f.clicks = static_cast<uint64_t>(sum_of(view, activation::event_counter(EventKind::kClick, campaign), group));
  f.orders = static_cast<uint64_t>(sum_of(view, activation::event_counter(EventKind::kOrder, campaign), group));
  f.gmv_fen = sum_of(view, activation::gmv_counter(campaign), group);
  return f;
}

void write_ratio(JsonWriter& w, std::string_view key, uint64_t num, uint64_t den) {
  w.raw(",").key(key);
  if (den == 0) {
    w.null();
  } else {
    w.real(static_cast<double>(num) / static_cast<double>(den));
  }
}

void write_figures(JsonWriter& w, const Figures& f) {
  w.raw("{").key("users").number(f.users).raw(",").key("reach").number(f.reach);
  w.raw(",").key("impressions").number(f.impressions).raw(",").key("clicks").number(f.clicks);
  write_ratio(w, "ctr", f.clicks, f.impressions);
  w.raw(",").key("orders").number(f.orders).raw(",").key("buyers").number(f.buyers);
  write_ratio(w, "conversion_rate", f.buyers, f.users);
  w.raw(",").key("gmv").real(static_cast<double>(f.gmv_fen) / 100.0);
  w.raw(",").key("gmv_per_user");
  if (f.users == 0) {
    w.null();
  } else {
    w.real(static_cast<double>(f.gmv_fen) / 100.0 / static_cast<double>(f.users));
  }
  w.raw("}");
}

void write_optional(JsonWriter& w, std::string_view key, std::optional<double> v) {
  w.raw(",").key(key);
  if (v) {
    w.real(*v);
  } else {
    w.null();
  }
}

}  // namespace

Reply Api::feedback(const Request& req, Call& call) {
  const auto type = media_type(std::string_view(req[http::field::content_type]));
  if (!type.empty() && type != "application/x-ndjson" && type != "application/json") {
    return error_reply({http::status::unsupported_media_type,
                        "unsupported_media_type",
                        "send events as application/x-ndjson, one JSON object a line",
                        {},
                        {},
                        {}});
  }
  // Every line is read and checked before anything is written: one bad
  // line refuses the request whole.
  const auto latest = options_.clock.event_limit();
  std::vector<EventLine> lines;
  std::string_view body = req.body();
  for (uint64_t n = 1; !body.empty(); ++n) {
    const auto end = body.find('\n');
    std::string_view text = body.substr(0, end);
    body.remove_prefix(end == std::string_view::npos ? body.size() : end + 1);
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    if (text.find_first_not_of(" \t") == std::string_view::npos) continue;
    EventLine e;
    if (auto error = read_line(text, n, latest, e)) return error_reply(*error);
    lines.push_back(std::move(e));
  }
  shrink_thread_json_parser();

  // Counters are read, then written as totals: one feedback write at a time
  // (activation/feedback.h). Other writes and every read go on meanwhile.
  std::lock_guard lock(feedback_mu_);
  const auto view = store_.view();
  const identity::IdTypes types(*view);
  // uids in one lookup under the writer lock; other types in the view.
  std::vector<UserId> uids;
  for (const auto& e : lines) {
    if (e.id_type == identity::kBuiltInUid) {
      const auto uid = parse_decimal_id(e.id);
      if (!uid) return error_reply(bad_line(e.line, "id: a uid is an unsigned 64-bit decimal integer"));
      uids.push_back(*uid);
    } else if (types.find(e.id_type) == nullptr) {
      return error_reply(bad_line(e.line, "id_type: no ID type " + e.id_type + " (GET /v1/id-types lists them)"));
    }
  }
  std::vector<std::optional<Ordinal>> uid_ordinals(uids.size());
  store_.find_uids(uids, uid_ordinals);

  WriteBatch batch;
  activation::FeedbackWriter writer(*view, batch);
  identity::EncodedId encoded;
  std::vector<std::string> keys;  // the batch copies keys; these outlive add()
  uint64_t unknown = 0, duplicates = 0, applied = 0;
  std::size_t next_uid = 0;
  for (const auto& e : lines) {
    activation::FeedbackEvent f;
    if (e.id_type == identity::kBuiltInUid) {
      const auto o = uid_ordinals[next_uid];
      f.uid = uids[next_uid++];
      if (!o || *o >= view->ordinal_count() || !view->universe().bits.contains(*o)) {
        ++unknown;
        continue;
      }
      f.user = *o;
    } else {
      const auto* t = types.find(e.id_type);
      identity::encode_id_into(t->type, e.id, false, encoded);
      if (!encoded.ok()) return error_reply(bad_line(e.line, "id: " + encoded.error));
      const auto o = t->space != nullptr ? view->owner(*t->space, encoded.key) : std::nullopt;
      if (!o) {
        ++unknown;
        continue;
      }
      f.user = *o;
      f.space = e.id_type;
      f.key = encoded.key;
    }
    f.kind = e.kind;
    f.campaign = e.campaign;
    f.day = e.day;
    f.value_fen = e.value_fen;
    f.event_id = e.event_id;
    if (writer.add(f)) {
      ++applied;
    } else {
      ++duplicates;
    }
  }
  if (!batch.empty()) {
    WriteResult result;
    if (auto failure = write_failure(store_.write(batch, result), result)) return error_reply(*failure);
    call.users = result.users;
  }
  std::string out;
  JsonWriter w(out);
  w.raw("{").key("events").number(lines.size()).raw(",").key("applied").number(applied);
  w.raw(",").key("unknown_ids").number(unknown).raw(",").key("duplicates").number(duplicates).raw("}");
  return json_reply(http::status::ok, std::move(out));
}

Reply Api::crowd_report(const std::string& name, const boost::urls::url_view& url) {
  if (auto problem = crowd_name_problem(name)) return error_reply(bad_request(*problem));
  const auto param = url.params().find("campaign");
  if (param == url.params().end() || !(*param).has_value) return error_reply(bad_request("campaign is required"));
  const std::string campaign = (*param).value;
  if (auto p = activation::campaign_problem(campaign)) return error_reply(bad_request("campaign: " + *p));
  const auto view = store_.view();
  if (!find_crowd(*view, name)) return error_reply(not_found("no saved crowd " + name));
  const auto a = activation_->crowd(*view, name);
  const auto cohorts = activation::Activation::cohorts(*view, name);

  std::string body;
  JsonWriter w(body);
  w.raw("{").key("crowd").string(name).raw(",").key("campaign").string(campaign);
  w.raw(",").key("holdout").real(a ? a->record.holdout_bp / 100.0 : 0.0);
  w.raw(",").key("versions").raw("[");
  Bitmap treated, held;
  bool first = true;
  for (const auto& c : cohorts) {
    w.raw(first ? "" : ",").raw("{").key("version").number(c.version).raw(",").key("treated");
    write_figures(w, figures(*view, campaign, c.treated->bits));
    w.raw(",").key("holdout");
    write_figures(w, figures(*view, campaign, c.held->bits));
    w.raw("}");
    first = false;
    roaring_bitmap_or_inplace(treated.get(), c.treated->bits.get());
    roaring_bitmap_or_inplace(held.get(), c.held->bits.get());
  }
  const Figures t = figures(*view, campaign, treated);
  const Figures h = figures(*view, campaign, held);
  w.raw("],").key("treated");
  write_figures(w, t);
  w.raw(",").key("holdout_group");
  write_figures(w, h);
  const auto lift = activation::relative_lift({t.buyers, t.users}, {h.buyers, h.users});
  w.raw(",").key("conversion_lift").raw("{").key("metric").string("conversion_rate");
  write_optional(w, "treated", lift.treated_rate);
  write_optional(w, "holdout", lift.holdout_rate);
  write_optional(w, "lift", lift.lift);
  write_optional(w, "ci95_low", lift.low);
  write_optional(w, "ci95_high", lift.high);
  w.raw("}}");
  return json_reply(http::status::ok, std::move(body));
}

}  // namespace crowd::server
