// Crowds' versions: saves (PUT, refresh, uploads), scheduled refreshes,
// expiry, deletion.
#include <algorithm>
#include <memory>

#include "activation/activation.h"
#include "activation/activation_support.h"
#include "activation/holdout.h"
#include "activation/record_keys.h"
#include "activation/schedule.h"
#include "index/system_view.h"

namespace crowd::activation {
namespace {

// A refresh that failed is tried again this much later (not at every tick).
constexpr int64_t kRefreshRetrySeconds = 60;

std::optional<Refusal> apply_settings(const IndexView& view, const CrowdSettings& s, CrowdRecord& c) {
  if (s.refresh) {
    if (!s.refresh->empty()) {
      const auto parsed = parse_schedule(*s.refresh);
      if (const auto* e = std::get_if<std::string>(&parsed)) {
        return refusal(Refusal::Kind::kBadRequest, "bad_request", "refresh: " + *e);
      }
      c.refresh = schedule_text(std::get<Schedule>(parsed));
    } else {
      c.refresh.clear();
    }
  }
  if (s.expires_at) c.expires_at = *s.expires_at;
  if (s.holdout_bp && *s.holdout_bp != c.holdout_bp) {
    if (*s.holdout_bp > kMaxHoldoutBasisPoints) {
      return refusal(Refusal::Kind::kBadRequest, "bad_request", "holdout: a percentage from 0 to 50");
    }
    if (c.next_push > 1) {
      return refusal(Refusal::Kind::kConflict, "holdout_locked",
                     "holdout: the crowd has been pushed; its hold-out cannot change (delete and save it again)");
    }
    c.holdout_bp = *s.holdout_bp;
  }
  if (s.push_to) {
    for (const auto& d : *s.push_to) {
      if (!Activation::destination(view, d)) {
        return refusal(Refusal::Kind::kBadRequest, "bad_request", "push_to: no destination " + d);
      }
    }
    c.push_to = *s.push_to;
  }
  return std::nullopt;
}

}  // namespace

std::variant<SavedVersion, Refusal> Activation::save_crowd(std::string_view name, std::string definition,
                                                           Bitmap members, std::string_view trigger,
                                                           const CrowdSettings& settings) {
  std::lock_guard lock(mu_);
  return save_locked(name, std::move(definition), std::move(members), trigger, settings);
}

std::variant<SavedVersion, Refusal> Activation::save_locked(std::string_view name, std::string definition,
                                                            Bitmap members, std::string_view trigger,
                                                            const CrowdSettings& settings) {
  const auto view = store_.view();
  const int64_t t = now();
  CrowdRecord c = read_crowd_record(*view, name).value_or(CrowdRecord{});
  if (auto r = apply_settings(*view, settings, c)) return *r;
  const bool expired = c.expires_at && *c.expires_at <= t;
  if (expired && (trigger == "refresh" || trigger == "schedule")) {
    return refusal(Refusal::Kind::kConflict, "crowd_expired",
                   "crowd " + std::string(name) + " has expired: it is not refreshed (give it a later expires_at)");
  }
  // A new expiry in the future brings an expired crowd back.
  if (!expired) c.expired = false;

  VersionEntry v;
  v.version = ++c.version;
  v.at = t;
  v.size = members.cardinality();
  v.trigger = trigger;
  if (const TagBits* old = crowd_members(*view, name)) {
    v.adds = roaring_bitmap_andnot_cardinality(members.get(), old->bits.get());
    v.removes = roaring_bitmap_andnot_cardinality(old->bits.get(), members.get());
  } else {
    v.adds = v.size;
  }
  c.versions.push_back(v);
  if (c.versions.size() > kVersionHistory) {
    c.versions.erase(c.versions.begin(), c.versions.end() - static_cast<std::ptrdiff_t>(kVersionHistory));
  }
  c.last_refresh = t;
  if (trigger == "schedule" || trigger == "refresh") {
    c.last_error.clear();
    c.retry_at = 0;
  }

  WriteBatch batch;
  batch.save_crowd(name, std::make_shared<const Bitmap>(std::move(members)), std::move(definition));
  batch.set_activation_record(keys::crowd(name), encode_crowd_record(c));
  if (auto r = write(batch)) return *r;
  return SavedVersion{v, std::move(c)};
}

std::variant<CrowdRecord, Refusal> Activation::update_settings(std::string_view name, const CrowdSettings& settings) {
  std::lock_guard lock(mu_);
  const auto view = store_.view();
  const TagBits* members = crowd_members(*view, name);
  if (members == nullptr) return refusal(Refusal::Kind::kNotFound, "not_found", "no saved crowd " + std::string(name));
  CrowdRecord c = read_crowd_record(*view, name).value_or(imported_record(*members, now()));
  if (auto r = apply_settings(*view, settings, c)) return *r;
  if (!c.expires_at || *c.expires_at > now()) c.expired = false;
  WriteBatch batch;
  batch.set_activation_record(keys::crowd(name), encode_crowd_record(c));
  if (auto r = write(batch)) return *r;
  return c;
}

std::optional<Refusal> Activation::delete_crowd(std::string_view name) {
  std::lock_guard lock(mu_);
  const auto view = store_.view();
  if (!view->system().saved_crowd(name)) {
    return refusal(Refusal::Kind::kNotFound, "not_found", "no saved crowd " + std::string(name));
  }
  WriteBatch batch;
  batch.delete_crowd(name);
  batch.erase_activation_record(keys::crowd(name));
  const auto system = view->system();
  for (const auto& prefix : {keys::push_prefix(name), keys::gone_prefix(name)}) {
    for (const auto& [key, text] : system.activation_records(prefix)) batch.erase_activation_record(key);
  }
  for (const auto& prefix : {keys::version_prefix(name), keys::cohort_prefix(name), keys::held_prefix(name)}) {
    for (const auto& [key, id] : system.kept_bitmaps(prefix)) {
      if (view->tag(id).cardinality > 0) batch.drop_bitmap(key);
    }
  }
  return write(batch);
}

bool Activation::refresh_due(const IndexView& view, int64_t t) {
  const std::string prefix = keys::crowd_prefix();
  for (const auto& [key, text] : view.system().activation_records(prefix)) {
    auto c = decode_crowd_record(text);
    if (!c || c->refresh.empty() || c->expired || (c->expires_at && *c->expires_at <= t)) continue;
    const auto parsed = parse_schedule(c->refresh);
    const auto* schedule = std::get_if<Schedule>(&parsed);
    if (schedule == nullptr || t < std::max(next_due(*schedule, c->last_refresh), c->retry_at)) continue;
    const std::string name(keys::name_after(key, prefix));
    if (!view.system().saved_crowd(name)) continue;

    // Drawn under mu_, so the version it makes follows the record read
    // above (refreshes are one at a time anyway): activation's other writes
    // wait for the draw, reads and queries do not.
    auto drawn = options_.draw ? options_.draw(name) : std::variant<DrawnCrowd, std::string>("no draw function");
    std::optional<Refusal> failed;
    if (auto* d = std::get_if<DrawnCrowd>(&drawn)) {
      auto saved = save_locked(name, std::move(d->definition), std::move(d->members), "schedule", {});
      if (auto* r = std::get_if<Refusal>(&saved)) failed = *r;
    } else {
      failed = refusal(Refusal::Kind::kBadRequest, "refresh_failed", std::get<std::string>(drawn));
    }
    if (failed) {
      refresh_failures_.fetch_add(1);
      auto again = read_crowd_record(*store_.view(), name).value_or(*c);
      again.last_error = failed->message.empty() ? "the write failed" : failed->message;
      again.retry_at = t + kRefreshRetrySeconds;
      WriteBatch batch;
      batch.set_activation_record(keys::crowd(name), encode_crowd_record(again));
      (void)write(batch);
      return true;
    }
    refreshes_.fetch_add(1);
    std::string refused;
    for (const auto& dest : c->push_to) {
      auto pushed = push_locked(name, dest, false, "schedule");
      if (const auto* r = std::get_if<Refusal>(&pushed)) {
        if (!refused.empty()) refused += "; ";
        refused += "push to " + dest + ": " + (r->message.empty() ? "the write failed" : r->message);
      }
    }
    if (!refused.empty()) {
      // The refresh stands; why its pushes did not go is on the crowd.
      if (auto again = read_crowd_record(*store_.view(), name)) {
        again->last_error = std::move(refused);
        WriteBatch batch;
        batch.set_activation_record(keys::crowd(name), encode_crowd_record(*again));
        (void)write(batch);
      }
    }
    return true;
  }
  return false;
}

bool Activation::expire_due(const IndexView& view, int64_t t) {
  const std::string prefix = keys::crowd_prefix();
  for (const auto& [key, text] : view.system().activation_records(prefix)) {
    auto c = decode_crowd_record(text);
    if (!c || c->expired || !c->expires_at || *c->expires_at > t) continue;
    const std::string name(keys::name_after(key, prefix));
    // Expired: outstanding pushes cancelled, versions no push can need
    // dropped; the crowd, its cohorts and push history stay (reports).
    WriteBatch batch;
    for (auto& [dest, s] : c->destinations) {
      if (s.outstanding == 0) continue;
      if (auto p = read_push_record(view, name, s.outstanding)) {
        p->status = PushRecord::Status::kCancelled;
        p->finished = t;
        p->error = "the crowd expired before the push was delivered";
        batch.set_activation_record(keys::push(name, p->seq), encode_push_record(*p));
      }
      s.outstanding = 0;
      // Its versions are dropped: a crowd brought back by a later
      // expires_at is pushed in full again.
      s.acknowledged = 0;
    }
    for (const auto& [vkey, id] : view.system().kept_bitmaps(keys::version_prefix(name))) {
      if (view.tag(id).cardinality > 0) batch.drop_bitmap(vkey);
    }
    c->expired = true;
    batch.set_activation_record(key, encode_crowd_record(*c));
    (void)write(batch);
    crowds_expired_.fetch_add(1);
    return true;
  }
  return false;
}

}  // namespace crowd::activation
