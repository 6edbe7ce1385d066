// Activation's shell: the worker thread, writes, destinations, reads for
// the routes and /metrics. Crowds' versions are in activation_crowds.cc,
// pushes in activation_pushes.cc.
#include "activation/activation.h"

#include <ctime>

#include "activation/activation_support.h"
#include "activation/record_keys.h"
#include "activation/schedule.h"
#include "index/system_view.h"

namespace crowd::activation {

Activation::Activation(Store& store, ActivationOptions options) : store_(store), options_(std::move(options)) {}

Activation::~Activation() { stop(); }

int64_t Activation::now() const { return options_.now ? options_.now() : static_cast<int64_t>(std::time(nullptr)); }

void Activation::start() {
  if (worker_.joinable()) return;
  worker_ = std::thread([this] {
    while (!stopping_.load()) {
      // Work until nothing is due, then sleep a tick or until woken.
      while (!stopping_.load() && run_due()) {
      }
      std::unique_lock lock(wake_mu_);
      wake_cv_.wait_for(lock, options_.tick, [this] { return woken_ || stopping_.load(); });
      woken_ = false;
    }
  });
}

void Activation::stop() {
  stopping_.store(true);
  wake();
  if (worker_.joinable()) worker_.join();
}

void Activation::wake() {
  {
    std::lock_guard lock(wake_mu_);
    woken_ = true;
  }
  wake_cv_.notify_one();
}

bool Activation::run_due() {
  std::optional<Delivery> due;
  {
    std::lock_guard lock(mu_);
    const auto view = store_.view();
    const int64_t t = now();
    // One piece of work a call: an expiry first (it cancels pushes), then a
    // scheduled refresh, then a delivery.
    if (expire_due(*view, t)) return true;
    if (refresh_due(*view, t)) return true;
    due = next_delivery(*view, t);
  }
  if (!due) return false;
  deliver(std::move(*due));
  return true;
}

std::optional<Refusal> Activation::write(WriteBatch& batch) {
  WriteResult result;
  const WriteStatus status = store_.write(batch, result);
  if (status == WriteStatus::kOk) return std::nullopt;
  Refusal r;
  r.kind = Refusal::Kind::kWrite;
  r.write = status;
  r.result = std::move(result);
  return r;
}

std::optional<CrowdActivation> Activation::crowd(const IndexView& view, std::string_view name) const {
  auto record = read_crowd_record(view, name);
  if (!record) return std::nullopt;
  CrowdActivation out;
  out.expired = record->expired || (record->expires_at && *record->expires_at <= now());
  if (!out.expired && !record->refresh.empty()) {
    const auto parsed = parse_schedule(record->refresh);
    if (const auto* s = std::get_if<Schedule>(&parsed)) {
      out.next_refresh = std::max(next_due(*s, record->last_refresh), record->retry_at);
    }
  }
  out.record = std::move(*record);
  return out;
}

namespace {

// Whether a destination defined again still holds what was pushed to it:
// the same place, the same ID type and format.
bool same_target(const Destination& a, const Destination& b) {
  return a.kind == b.kind && a.path == b.path && a.url == b.url && a.id_type == b.id_type && a.format == b.format;
}

}  // namespace

std::optional<Refusal> Activation::forget_destination(const IndexView& view, std::string_view name, WriteBatch& batch) {
  const std::string prefix = keys::crowd_prefix();
  for (const auto& [key, text] : view.system().activation_records(prefix)) {
    auto c = decode_crowd_record(text);
    if (!c) continue;
    const auto crowd_name = keys::name_after(key, prefix);
    const auto it = c->destinations.find(std::string(name));
    if (it == c->destinations.end()) continue;
    if (it->second.outstanding != 0) {
      return refusal(
          Refusal::Kind::kConflict, "destination_in_use",
          "a push of crowd " + std::string(crowd_name) + " to " + std::string(name) + " is not delivered yet");
    }
    c->destinations.erase(it);
    drop_unneeded_versions(view, crowd_name, needed_versions(view, crowd_name, *c), batch);
    if (view.system().activation_record(keys::gone(crowd_name, name))) {
      batch.erase_activation_record(keys::gone(crowd_name, name));
    }
    batch.set_activation_record(key, encode_crowd_record(*c));
  }
  return std::nullopt;
}

std::optional<Refusal> Activation::put_destination(std::string_view name, Destination d, bool& created) {
  std::lock_guard lock(mu_);
  const auto view = store_.view();
  const auto existing = destination(*view, name);
  created = !existing;
  d.created = existing ? existing->created : now();
  WriteBatch batch;
  // Another place, ID type or format holds nothing of what was pushed: the
  // next push to it is full.
  if (existing && !same_target(*existing, d)) {
    if (auto r = forget_destination(*view, name, batch)) return r;
  }
  batch.set_activation_record(keys::destination(name), encode_destination(d));
  return write(batch);
}

std::optional<Refusal> Activation::delete_destination(std::string_view name) {
  std::lock_guard lock(mu_);
  const auto view = store_.view();
  if (!destination(*view, name)) {
    return refusal(Refusal::Kind::kNotFound, "not_found", "no destination " + std::string(name));
  }
  // Crowds that push to it automatically, or hold its state: refused, so a
  // schedule never silently stops pushing and no outstanding push is lost.
  for (const auto& [key, text] : view->system().activation_records(keys::crowd_prefix())) {
    const auto c = decode_crowd_record(text);
    if (!c) continue;
    const auto crowd_name = keys::name_after(key, keys::crowd_prefix());
    for (const auto& p : c->push_to) {
      if (p == name) {
        return refusal(Refusal::Kind::kConflict, "destination_in_use",
                       "crowd " + std::string(crowd_name) + " pushes to " + std::string(name) +
                           " after each refresh: change its push_to first");
      }
    }
  }
  WriteBatch batch;
  if (auto r = forget_destination(*view, name, batch)) return r;
  batch.erase_activation_record(keys::destination(name));
  return write(batch);
}

std::optional<Destination> Activation::destination(const IndexView& view, std::string_view name) {
  const auto text = view.system().activation_record(keys::destination(name));
  if (!text) return std::nullopt;
  return decode_destination(*text);
}

std::vector<std::pair<std::string, Destination>> Activation::destinations(const IndexView& view) {
  std::vector<std::pair<std::string, Destination>> out;
  const std::string prefix = keys::destination_prefix();
  for (const auto& [key, text] : view.system().activation_records(prefix)) {
    if (auto d = decode_destination(text)) out.emplace_back(std::string(keys::name_after(key, prefix)), std::move(*d));
  }
  return out;
}

std::vector<Cohort> Activation::cohorts(const IndexView& view, std::string_view crowd) {
  std::vector<Cohort> out;
  const auto record = read_crowd_record(view, crowd);
  if (!record) return out;
  for (const uint64_t v : record->pushed_versions) {
    // An empty cohort may have been pruned from the dictionary: empty it is.
    static const TagBits kEmpty{Bitmap()};
    const TagBits* treated = kept_bitmap(view, keys::cohort(crowd, v));
    const TagBits* held = kept_bitmap(view, keys::held(crowd, v));
    out.push_back(Cohort{v, treated != nullptr ? treated : &kEmpty, held != nullptr ? held : &kEmpty});
  }
  return out;
}

std::pair<uint64_t, uint64_t> Activation::kept(const IndexView& view) {
  uint64_t count = 0;
  uint64_t bytes = 0;
  for (const auto& [key, id] : view.system().kept_bitmaps("")) {
    const TagBits& bits = view.tag(id);
    if (bits.cardinality == 0) continue;  // dropped
    ++count;
    bytes += bits.bytes;
  }
  return {count, bytes};
}

uint64_t Activation::outstanding(const IndexView& view) {
  uint64_t n = 0;
  for (const auto& [key, text] : view.system().activation_records(keys::crowd_prefix())) {
    if (const auto c = decode_crowd_record(text)) {
      for (const auto& [dest, s] : c->destinations) n += s.outstanding != 0;
    }
  }
  return n;
}

ActivationStats Activation::stats() const {
  return ActivationStats{refreshes_.load(),       refresh_failures_.load(), pushes_delivered_.load(),
                         attempts_failed_.load(), push_bytes_.load(),       crowds_expired_.load()};
}

}  // namespace crowd::activation
