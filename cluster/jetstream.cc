#include "cluster/jetstream.h"

#include <nats/nats.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace crowd::cluster {
namespace {

// publish(): the longest wait of one try, and the pause after a failed one.
constexpr std::chrono::milliseconds kPublishTry{2000};
constexpr std::chrono::milliseconds kPublishPause{100};

std::string words(natsStatus s, jsErrCode code = static_cast<jsErrCode>(0)) {
  std::string out = natsStatus_GetText(s);
  if (code != 0) out += " (JetStream error " + std::to_string(static_cast<int>(code)) + ")";
  const char* last = nats_GetLastError(nullptr);
  if (last != nullptr && *last != '\0') out += ": " + std::string(last);
  return out;
}

// Subscriptions dropped while their connection lives. libnats 3.4.1's read
// loop finds a message's subscription, lets go of the lookup lock, copies
// the message -- a millisecond or more for a MiB-sized one -- and only then
// locks the subscription without having retained it. Destroying the
// subscription in between made the read loop lock a freed mutex and abort:
// a replica died so under a bulk load of 8 MiB messages (core dump:
// natsConn_processMsg -> abort). So a dropped subscription is unsubscribed
// at once (no later message finds it) and destroyed only once it has been
// unsubscribed for kGraveTime, or when the connection is gone.
class Graveyard {
 public:
  static constexpr std::chrono::seconds kGraveTime{10};
  void bury(natsSubscription* sub) {
    if (sub == nullptr) return;
    (void)natsSubscription_Unsubscribe(sub);
    const auto now = std::chrono::steady_clock::now();
    std::vector<natsSubscription*> old;
    {
      std::lock_guard lock(mu_);
      while (!graves_.empty() && now - graves_.front().second >= kGraveTime) {
        old.push_back(graves_.front().first);
        graves_.pop_front();
      }
      graves_.emplace_back(sub, now);
    }
    for (natsSubscription* s : old) natsSubscription_Destroy(s);
  }
  // The connection is closed: no read loop is left to race with.
  void clear() {
    std::lock_guard lock(mu_);
    for (const auto& grave : graves_) natsSubscription_Destroy(grave.first);
    graves_.clear();
  }
  ~Graveyard() { clear(); }

 private:
  std::mutex mu_;
  std::deque<std::pair<natsSubscription*, std::chrono::steady_clock::time_point>> graves_;
};

}  // namespace

struct JetStream::Impl {
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
  std::shared_ptr<Graveyard> graveyard = std::make_shared<Graveyard>();
  ~Impl() {
    natsConnection_Close(nc);  // the read loop ends here
    graveyard->clear();
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
  }
};

struct JetStream::Reader::Impl {
  natsSubscription* sub = nullptr;
  std::shared_ptr<Graveyard> graveyard;
  ~Impl() { graveyard->bury(sub); }
};

struct JetStream::Listener::Impl {
  natsSubscription* sub = nullptr;
  std::shared_ptr<Graveyard> graveyard;
  ~Impl() { graveyard->bury(sub); }
};

JetStream::JetStream(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
JetStream::Listener::Listener(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
JetStream::Listener::~Listener() = default;

std::unique_ptr<JetStream::Listener> JetStream::listen(const std::string& subject, std::string& error) {
  auto impl = std::make_unique<Listener::Impl>();
  impl->graveyard = impl_->graveyard;
  const natsStatus s = natsConnection_SubscribeSync(&impl->sub, impl_->nc, subject.c_str());
  if (s != NATS_OK) {
    error = "cannot listen on " + subject + ": " + words(s);
    return nullptr;
  }
  // Wait until the server has the subscription, so no notice sent after
  // listen() returns is missed.
  (void)natsConnection_Flush(impl_->nc);
  return std::unique_ptr<Listener>(new Listener(std::move(impl)));
}

std::optional<std::string> JetStream::Listener::next(std::chrono::milliseconds timeout) {
  natsMsg* msg = nullptr;
  if (natsSubscription_NextMsg(&msg, impl_->sub, timeout.count()) != NATS_OK) return std::nullopt;
  std::string data(natsMsg_GetData(msg), static_cast<std::size_t>(natsMsg_GetDataLength(msg)));
  natsMsg_Destroy(msg);
  return data;
}
JetStream::~JetStream() = default;
JetStream::Reader::Reader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
JetStream::Reader::~Reader() = default;

std::unique_ptr<JetStream> JetStream::connect(const std::vector<std::string>& urls, std::string& error) {
  natsOptions* opts = nullptr;
  if (natsOptions_Create(&opts) != NATS_OK) {
    error = "cannot create NATS options";
    return nullptr;
  }
  std::vector<const char*> servers;
  for (const auto& u : urls) servers.push_back(u.c_str());
  natsStatus s = natsOptions_SetServers(opts, servers.data(), static_cast<int>(servers.size()));
  if (s == NATS_OK) s = natsOptions_SetTimeout(opts, 2000);        // connect, per server
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(opts, -1);     // forever
  if (s == NATS_OK) s = natsOptions_SetReconnectWait(opts, 100);   // ms between rounds
  if (s == NATS_OK) s = natsOptions_SetReconnectBufSize(opts, 0);  // never buffer publishes blind
  auto impl = std::make_unique<Impl>();
  if (s == NATS_OK) s = natsConnection_Connect(&impl->nc, opts);
  natsOptions_Destroy(opts);
  if (s != NATS_OK) {
    error = "cannot connect to NATS: " + words(s);
    return nullptr;
  }
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = 5000;
  s = natsConnection_JetStream(&impl->js, impl->nc, &jo);
  if (s != NATS_OK) {
    error = "cannot open JetStream: " + words(s);
    return nullptr;
  }
  return std::unique_ptr<JetStream>(new JetStream(std::move(impl)));
}

bool JetStream::ensure_stream(const StreamSettings& settings, std::string& error) {
  jsStreamInfo* info = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_GetStreamInfo(&info, impl_->js, settings.name.c_str(), nullptr, &code);
  if (s == NATS_OK) {
    jsStreamInfo_Destroy(info);
    return true;
  }
  if (s != NATS_NOT_FOUND) {
    error = "cannot look up stream " + settings.name + ": " + words(s, code);
    return false;
  }
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  const char* subjects[] = {settings.subject.c_str()};
  cfg.Name = settings.name.c_str();
  cfg.Subjects = subjects;
  cfg.SubjectsLen = 1;
  cfg.Storage = js_FileStorage;
  cfg.Replicas = settings.replicas;
  cfg.Duplicates = std::chrono::duration_cast<std::chrono::nanoseconds>(settings.duplicate_window).count();
  s = js_AddStream(&info, impl_->js, &cfg, nullptr, &code);
  if (s != NATS_OK) {
    error = "cannot create stream " + settings.name + ": " + words(s, code);
    return false;
  }
  jsStreamInfo_Destroy(info);
  return true;
}

std::string JetStream::stream_leader(const std::string& stream, std::string& error) {
  jsStreamInfo* info = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  const natsStatus s = js_GetStreamInfo(&info, impl_->js, stream.c_str(), nullptr, &code);
  if (s != NATS_OK) {
    error = "cannot look up stream " + stream + ": " + words(s, code);
    return "";
  }
  std::string leader = info->Cluster != nullptr && info->Cluster->Leader != nullptr ? info->Cluster->Leader : "";
  jsStreamInfo_Destroy(info);
  return leader;
}

std::size_t JetStream::max_payload() const {
  return static_cast<std::size_t>(natsConnection_GetMaxPayload(impl_->nc));
}

std::optional<uint64_t> JetStream::last_sequence(const std::string& stream, std::string& error) {
  jsStreamInfo* info = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  const natsStatus s = js_GetStreamInfo(&info, impl_->js, stream.c_str(), nullptr, &code);
  if (s != NATS_OK) {
    error = "cannot look up stream " + stream + ": " + words(s, code);
    return std::nullopt;
  }
  const uint64_t last = info->State.LastSeq;
  jsStreamInfo_Destroy(info);
  return last;
}

std::optional<Published> JetStream::publish(const std::string& subject, std::string_view data, const std::string& id,
                                            std::chrono::milliseconds timeout, std::string& error) {
  using Clock = std::chrono::steady_clock;
  const auto give_up = Clock::now() + timeout;
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MsgId = id.c_str();
  for (;;) {
    // One try waits at most kPublishTry, so that a try lost to a dying
    // stream leader is followed by another to the next one.
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(give_up - Clock::now());
    po.MaxWait = std::max<int64_t>(1, std::min(left, kPublishTry).count());
    jsPubAck* ack = nullptr;
    jsErrCode code = static_cast<jsErrCode>(0);
    const natsStatus s =
        js_Publish(&ack, impl_->js, subject.c_str(), data.data(), static_cast<int>(data.size()), &po, &code);
    if (s == NATS_OK) {
      Published p{ack->Sequence, ack->Duplicate};
      jsPubAck_Destroy(ack);
      return p;
    }
    if (Clock::now() + kPublishPause >= give_up) {
      error = "publish to " + subject + " not acknowledged: " + words(s, code);
      return std::nullopt;
    }
    // No responders (a stream whose leader is being elected) answers at
    // once: pause before the next try.
    std::this_thread::sleep_for(kPublishPause);
  }
}

bool JetStream::notify(const std::string& subject, std::string_view data, std::string& error) {
  const natsStatus s = natsConnection_Publish(impl_->nc, subject.c_str(), data.data(), static_cast<int>(data.size()));
  if (s != NATS_OK) {
    error = "notice on " + subject + " not sent: " + words(s);
    return false;
  }
  return true;
}

std::unique_ptr<JetStream::Reader> JetStream::read(const std::string& subject, uint64_t from, std::string& error) {
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Ordered = true;
  so.Config.DeliverPolicy = js_DeliverByStartSequence;
  so.Config.OptStartSeq = from;
  auto impl = std::make_unique<Reader::Impl>();
  impl->graveyard = impl_->graveyard;
  jsErrCode code = static_cast<jsErrCode>(0);
  const natsStatus s = js_SubscribeSync(&impl->sub, impl_->js, subject.c_str(), nullptr, &so, &code);
  if (s != NATS_OK) {
    error = "cannot read " + subject + ": " + words(s, code);
    return nullptr;
  }
  return std::unique_ptr<Reader>(new Reader(std::move(impl)));
}

std::optional<StreamMessage> JetStream::Reader::next(std::chrono::milliseconds timeout, std::string& error) {
  natsMsg* msg = nullptr;
  const natsStatus s = natsSubscription_NextMsg(&msg, impl_->sub, timeout.count());
  if (s == NATS_TIMEOUT) return std::nullopt;
  if (s != NATS_OK) {
    error = words(s);
    return std::nullopt;
  }
  StreamMessage out;
  jsMsgMetaData* meta = nullptr;
  if (natsMsg_GetMetaData(&meta, msg) == NATS_OK) {
    out.sequence = meta->Sequence.Stream;
    jsMsgMetaData_Destroy(meta);
  }
  out.data.assign(natsMsg_GetData(msg), static_cast<std::size_t>(natsMsg_GetDataLength(msg)));
  natsMsg_Destroy(msg);
  return out;
}

}  // namespace crowd::cluster
