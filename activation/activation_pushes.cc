// Pushes: recording one, delivering it (without the mutex), recording the
// outcome; and erasures that reach what destinations hold.
#include <algorithm>
#include <memory>
#include <set>

#include "activation/activation.h"
#include "activation/activation_support.h"
#include "activation/delta_payload.h"
#include "activation/file_sink.h"
#include "activation/holdout.h"
#include "activation/record_keys.h"
#include "activation/webhook_sink.h"
#include "identity/id_types.h"
#include "index/system_view.h"

namespace crowd::activation {
namespace {

// After a failed delivery the same push is tried again 30 s later, then
// 1, 2, 4, ... minutes, at most 15 minutes apart.
constexpr int64_t kRetryInitialSeconds = 30;
constexpr int64_t kRetryMaxSeconds = 900;

int64_t retry_delay(unsigned failures) {
  const unsigned doublings = std::min(failures == 0 ? 0u : failures - 1, 10u);
  return std::min(kRetryInitialSeconds << doublings, kRetryMaxSeconds);
}

bool finished(const PushRecord& p) {
  return p.status == PushRecord::Status::kDelivered || p.status == PushRecord::Status::kCancelled;
}

std::vector<std::string> split_lines(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    const auto at = text.find('\n');
    out.emplace_back(text.substr(0, at));
    if (at == std::string_view::npos) break;
    text.remove_prefix(at + 1);
  }
  return out;
}

}  // namespace

std::variant<PushRecord, Refusal> Activation::push(std::string_view crowd, std::string_view destination, bool full,
                                                   std::string_view trigger) {
  std::variant<PushRecord, Refusal> out;
  {
    std::lock_guard lock(mu_);
    out = push_locked(crowd, destination, full, trigger);
  }
  if (std::holds_alternative<PushRecord>(out)) wake();
  return out;
}

std::variant<PushRecord, Refusal> Activation::push_locked(std::string_view crowd, std::string_view dest_name, bool full,
                                                          std::string_view trigger) {
  const auto view = store_.view();
  const int64_t t = now();
  const TagBits* members = crowd_members(*view, crowd);
  if (members == nullptr) return refusal(Refusal::Kind::kNotFound, "not_found", "no saved crowd " + std::string(crowd));
  CrowdRecord c = read_crowd_record(*view, crowd).value_or(imported_record(*members, t));
  if (c.expired || (c.expires_at && *c.expires_at <= t)) {
    return refusal(Refusal::Kind::kConflict, "crowd_expired",
                   "crowd " + std::string(crowd) + " has expired: it is no longer pushed");
  }
  const auto dest = destination(*view, dest_name);
  if (!dest) return refusal(Refusal::Kind::kNotFound, "not_found", "no destination " + std::string(dest_name));
  const identity::IdTypes types(*view);
  const identity::DefinedIdType* type = nullptr;
  if (dest->id_type != "uid") {
    type = types.find(dest->id_type);
    if (type == nullptr) {
      return refusal(
          Refusal::Kind::kConflict, "push_refused",
          "destination " + std::string(dest_name) + " wants ID type " + dest->id_type + ", which is not defined");
    }
  }
  DestinationState& state = c.destinations[std::string(dest_name)];
  WriteBatch batch;
  if (state.outstanding != 0) {
    // The outstanding push lands first, as it was recorded; try it now.
    auto p = read_push_record(*view, crowd, state.outstanding);
    if (p && !finished(*p)) {
      p->next_attempt = t;
      batch.set_activation_record(keys::push(crowd, p->seq), encode_push_record(*p));
      if (auto r = write(batch)) return *r;
      return *p;
    }
    state.outstanding = 0;  // a record lost or finished: nothing is outstanding
  }

  // A delta needs the acknowledged version's members; when they are gone (an
  // expired crowd brought back, every member erased) a full push is right.
  if (state.acknowledged != 0) {
    const TagBits* base = kept_bitmap(*view, keys::version(crowd, state.acknowledged));
    if (base == nullptr || base->cardinality == 0) full = true;
  }
  full = full || state.acknowledged == 0;
  const Holdout holdout(crowd, c.holdout_bp);
  const uint64_t audience = exported_users(*view, holdout.pushed(members->bits), type);
  if (options_.min_export_size > 0 && audience < options_.min_export_size) {
    return refusal(Refusal::Kind::kTooSmall, "crowd_too_small",
                   "the push would reach fewer users than the server's minimum export size");
  }
  if (dest->min_size > 0 && audience < dest->min_size) {
    return refusal(Refusal::Kind::kConflict, "push_refused",
                   "the push would reach " + std::to_string(audience) + " users, below destination " +
                       std::string(dest_name) + "'s min_size of " + std::to_string(dest->min_size));
  }
  if (dest->max_size > 0 && audience > dest->max_size) {
    return refusal(Refusal::Kind::kConflict, "push_refused",
                   "the push would reach " + std::to_string(audience) + " users, above destination " +
                       std::string(dest_name) + "'s max_size of " + std::to_string(dest->max_size));
  }

  PushRecord p;
  p.seq = c.next_push++;
  p.id = random_push_id();
  p.destination = dest_name;
  p.full = full;
  p.version = c.version;
  p.base_version = full ? 0 : state.acknowledged;
  p.created = t;
  p.next_attempt = t;
  p.trigger = trigger;
  state.outstanding = p.seq;
  // The version's members stay as they are now until every destination
  // that needs them has them.
  batch.keep_bitmap(keys::version(crowd, p.version), std::make_shared<const Bitmap>(members->bits.clone()));
  batch.set_activation_record(keys::push(crowd, p.seq), encode_push_record(p));
  batch.set_activation_record(keys::crowd(crowd), encode_crowd_record(c));
  // History: the oldest finished records beyond kPushHistory go.
  const auto history = view->system().activation_records(keys::push_prefix(crowd));
  std::size_t excess = history.size() + 1 > kPushHistory ? history.size() + 1 - kPushHistory : 0;
  for (const auto& [key, text] : history) {
    if (excess == 0) break;
    const auto old = decode_push_record(text);
    if (old && !finished(*old)) continue;
    batch.erase_activation_record(key);
    --excess;
  }
  if (auto r = write(batch)) return *r;
  return p;
}

std::vector<PushRecord> Activation::pushes(const IndexView& view, std::string_view crowd) {
  std::vector<PushRecord> out;
  for (const auto& [key, text] : view.system().activation_records(keys::push_prefix(crowd))) {
    if (auto p = decode_push_record(text)) out.push_back(std::move(*p));
  }
  return out;
}

std::optional<Activation::Delivery> Activation::next_delivery(const IndexView& view, int64_t t) {
  const std::string prefix = keys::crowd_prefix();
  for (const auto& [key, text] : view.system().activation_records(prefix)) {
    const auto c = decode_crowd_record(text);
    if (!c) continue;
    const std::string crowd(keys::name_after(key, prefix));
    for (const auto& [dest, s] : c->destinations) {
      if (s.outstanding == 0) continue;
      auto p = read_push_record(view, crowd, s.outstanding);
      if (!p || finished(*p) || p->next_attempt > t) continue;
      auto d = destination(view, dest);
      if (!d) continue;
      return Delivery{crowd, std::move(*p), std::move(*d), c->holdout_bp, store_.view()};
    }
  }
  return std::nullopt;
}

void Activation::deliver(Delivery d) {
  const IndexView& view = *d.view;
  const PushRecord& p = d.push;
  const TagBits* target = kept_bitmap(view, keys::version(d.crowd, p.version));
  const TagBits* base = p.full ? nullptr : kept_bitmap(view, keys::version(d.crowd, p.base_version));
  const identity::IdTypes types(view);
  const identity::DefinedIdType* type = d.destination.id_type == "uid" ? nullptr : types.find(d.destination.id_type);
  if (target == nullptr || (!p.full && base == nullptr)) {
    // Cannot happen while the records hold; if it does, the pair must not be
    // stuck: the push is cancelled and the next one is full.
    cancel(d, "a version the push needs is no longer kept; the next push is full");
    return;
  }
  if (d.destination.id_type != "uid" && type == nullptr) {
    record_outcome(d, false, 0, "ID type " + d.destination.id_type + " is not defined", 0, "", 0, 0, 0, 0);
    return;
  }

  const Holdout holdout(d.crowd, d.holdout_bp);
  PushSets sets;
  std::size_t gone_lines = 0;
  if (p.full) {
    sets.adds = holdout.pushed(target->bits);
  } else {
    sets.adds = holdout.pushed(minus(target->bits, base->bits));
    sets.removes = holdout.pushed(minus(base->bits, target->bits));
    if (const auto gone = view.system().activation_record(keys::gone(d.crowd, p.destination))) {
      sets.gone = split_lines(*gone);
    }
  }
  // A full push replaces what the receiver holds, erased users' IDs with it.
  if (const auto gone = view.system().activation_record(keys::gone(d.crowd, p.destination))) {
    gone_lines = split_lines(*gone).size();
  }
  const uint64_t held_out = holdout.any() ? holdout.held_of(target->bits).cardinality() : 0;
  DeltaPayload payload(d.view, type, d.destination.format, std::move(sets));
  PushInfo info;
  info.push_id = p.id;
  info.crowd = d.crowd;
  info.destination = p.destination;
  info.full = p.full;
  info.seq = p.seq;
  info.version = p.version;
  info.base_version = p.base_version;
  info.format = d.destination.format;
  info.adds = payload.add_lines();
  info.removes = payload.remove_lines();

  DeliveryOutcome outcome;
  if (d.destination.kind == Destination::Kind::kFile) {
    outcome = deliver_file(d.destination.path, info, payload, p.created);
  } else {
    WebhookOptions w;
    w.url = d.destination.url;
    w.headers = d.destination.headers;
    w.request_timeout = std::chrono::milliseconds(d.destination.timeout_ms);
    w.deadline = std::chrono::milliseconds(d.destination.deadline_ms);
    outcome = deliver_webhook(w, info, payload, &stopping_);
  }
  if (outcome.delivered && !payload.wrote_what_it_counted()) {
    // A user erased mid-push: the payload differs from its counts (a file's
    // manifest says so). Sent again at once; a receiver that applied it
    // ignores the push id, and the erased user's IDs go with the next push.
    record_outcome(d, false, outcome.attempts, "a user was erased while the push was sent; sending it again", 0, "",
                   info.adds, info.removes, held_out, 0, /*retry_now=*/true);
    return;
  }
  record_outcome(d, outcome.delivered, outcome.attempts, std::move(outcome.error), outcome.bytes,
                 std::move(outcome.sha256), info.adds, info.removes, held_out, gone_lines);
}

void Activation::cancel(const Delivery& d, std::string why) {
  std::lock_guard lock(mu_);
  const auto view = store_.view();
  auto c = read_crowd_record(*view, d.crowd);
  auto p = read_push_record(*view, d.crowd, d.push.seq);
  if (!c || !p || finished(*p)) return;
  p->status = PushRecord::Status::kCancelled;
  p->finished = now();
  p->error = std::move(why);
  DestinationState& state = c->destinations[p->destination];
  if (state.outstanding == p->seq) state.outstanding = 0;
  state.acknowledged = 0;  // nothing to build a delta on: the next push is full
  WriteBatch batch;
  batch.set_activation_record(keys::push(d.crowd, p->seq), encode_push_record(*p));
  batch.set_activation_record(keys::crowd(d.crowd), encode_crowd_record(*c));
  (void)write(batch);
}

void Activation::record_outcome(const Delivery& d, bool delivered, unsigned attempts, std::string error, uint64_t bytes,
                                std::string sha256, uint64_t adds, uint64_t removes, uint64_t held_out,
                                std::size_t gone_lines, bool retry_now) {
  PushRecord done;
  {
    std::lock_guard lock(mu_);
    const auto view = store_.view();
    const int64_t t = now();
    auto c = read_crowd_record(*view, d.crowd);
    auto p = read_push_record(*view, d.crowd, d.push.seq);
    if (!c || !p || finished(*p)) return;  // the crowd was deleted or the push cancelled meanwhile
    p->attempts += attempts;
    p->adds = adds;
    p->removes = removes;
    p->held_out = held_out;
    p->bytes = bytes;
    p->sha256 = std::move(sha256);
    WriteBatch batch;
    if (delivered) {
      p->status = PushRecord::Status::kDelivered;
      p->finished = t;
      p->error.clear();
      DestinationState& state = c->destinations[p->destination];
      state.acknowledged = p->version;
      if (state.outstanding == p->seq) state.outstanding = 0;
      // Erased users' IDs this push carried (or, full, made moot) are done;
      // ones recorded since stay for the next push.
      if (gone_lines > 0) {
        const std::string key = keys::gone(d.crowd, p->destination);
        auto lines = split_lines(view->system().activation_record(key).value_or(""));
        lines.erase(lines.begin(), lines.begin() + static_cast<std::ptrdiff_t>(std::min(gone_lines, lines.size())));
        if (lines.empty()) {
          batch.erase_activation_record(key);
        } else {
          std::string text;
          for (const auto& l : lines) text += l + "\n";
          text.pop_back();
          batch.set_activation_record(key, std::move(text));
        }
      }
      // The first delivery of a version records its cohorts: users pushed,
      // and held out, for the first time with it -- both only those the
      // destination's ID type reaches, so the two groups compare like with
      // like (a user without an OAID was neither shown the ad nor kept from it).
      if (!std::binary_search(c->pushed_versions.begin(), c->pushed_versions.end(), p->version)) {
        const TagBits* target = kept_bitmap(*view, keys::version(d.crowd, p->version));
        const identity::IdTypes types(*view);
        const auto* type = d.destination.id_type == "uid" ? nullptr : types.find(d.destination.id_type);
        if (target != nullptr && (type != nullptr || d.destination.id_type == "uid")) {
          const Holdout holdout(d.crowd, c->holdout_bp);
          auto treated = minus(reachable(*view, holdout.pushed(target->bits), type),
                               kept_union(*view, keys::cohort_prefix(d.crowd)));
          auto held = minus(reachable(*view, holdout.held_of(target->bits), type),
                            kept_union(*view, keys::held_prefix(d.crowd)));
          treated.optimize();
          held.optimize();
          batch.keep_bitmap(keys::cohort(d.crowd, p->version), std::make_shared<const Bitmap>(std::move(treated)));
          batch.keep_bitmap(keys::held(d.crowd, p->version), std::make_shared<const Bitmap>(std::move(held)));
        }
        c->pushed_versions.insert(std::upper_bound(c->pushed_versions.begin(), c->pushed_versions.end(), p->version),
                                  p->version);
      }
      drop_unneeded_versions(*view, d.crowd, needed_versions(*view, d.crowd, *c), batch);
      pushes_delivered_.fetch_add(1);
      push_bytes_.fetch_add(bytes);
    } else {
      p->status = PushRecord::Status::kRetrying;
      ++p->failures;
      p->error = std::move(error);
      p->next_attempt = retry_now ? t : t + retry_delay(p->failures);
      attempts_failed_.fetch_add(1);
    }
    batch.set_activation_record(keys::push(d.crowd, p->seq), encode_push_record(*p));
    batch.set_activation_record(keys::crowd(d.crowd), encode_crowd_record(*c));
    if (write(batch)) return;  // not recorded: the push stays outstanding and is sent again
    done = *p;
  }
  if (delivered && options_.delivered) options_.delivered(d.crowd, done);
}

WriteStatus Activation::erase_users(const IndexView& view, std::span<const Ordinal> ordinals, WriteBatch& batch,
                                    WriteResult& result) {
  if (ordinals.empty()) return store_.write(batch, result);  // nobody known: nothing any destination holds
  std::lock_guard lock(mu_);
  // The records as they are now (mu_ orders them), the users' IDs from the
  // caller's view, taken before the erasure unlinks them.
  const auto current = store_.view();
  const identity::IdTypes types(view);
  const std::string prefix = keys::crowd_prefix();
  std::vector<std::string> ids;
  for (const auto& [key, text] : current->system().activation_records(prefix)) {
    const auto c = decode_crowd_record(text);
    if (!c) continue;
    const std::string crowd(keys::name_after(key, prefix));
    const Holdout holdout(crowd, c->holdout_bp);
    for (const auto& [dest_name, state] : c->destinations) {
      std::set<uint64_t> held_versions;
      if (state.acknowledged != 0) held_versions.insert(state.acknowledged);
      if (state.outstanding != 0) {
        if (const auto p = read_push_record(*current, crowd, state.outstanding)) held_versions.insert(p->version);
      }
      const auto dest = destination(*current, dest_name);
      if (held_versions.empty() || !dest) continue;
      const identity::DefinedIdType* type = dest->id_type == "uid" ? nullptr : types.find(dest->id_type);
      if (dest->id_type != "uid" && type == nullptr) continue;
      const std::string gone_key = keys::gone(crowd, dest_name);
      std::string gone(current->system().activation_record(gone_key).value_or(""));
      const std::size_t before = gone.size();
      for (const Ordinal o : ordinals) {
        if (holdout.held(o)) continue;  // never pushed
        bool pushed = false;
        for (const uint64_t v : held_versions) {
          const TagBits* bits = kept_bitmap(*current, keys::version(crowd, v));
          pushed = pushed || (bits != nullptr && bits->bits.contains(o));
        }
        if (!pushed) continue;
        user_ids(view, type, o, ids);
        for (const auto& id : ids) {
          if (!gone.empty()) gone += '\n';
          gone += id;
        }
      }
      if (gone.size() != before) batch.set_activation_record(gone_key, std::move(gone));
    }
  }
  return store_.write(batch, result);
}

}  // namespace crowd::activation
