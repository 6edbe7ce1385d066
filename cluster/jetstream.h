// The write stream (docs/cluster.md#write-path-jetstream): one JetStream
// stream per shard, through the NATS C client (Debian's libnats 3.4).
//
// Publishing waits for JetStream's acknowledgement -- the message is stored
// on a quorum of the stream's replicas -- and carries a message id, so that a
// retry after a lost acknowledgement is recognised as a duplicate within the
// stream's window instead of being stored twice. Reading is an ordered
// consumer from a given sequence: ephemeral, no acknowledgements, delivered
// strictly in stream order (the client re-creates it past any gap), which is
// what a replica replaying its shard's history needs.
//
// Thread safety: a JetStream may be shared by threads for publish(); a
// Reader belongs to one thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace crowd::cluster {

struct StreamSettings {
  std::string name;     // e.g. CROWD_demo_S0
  std::string subject;  // e.g. crowd.demo.w.0
  int replicas = 3;
  std::chrono::seconds duplicate_window{600};
};

struct Published {
  uint64_t sequence = 0;   // the message's place in the stream (the original's, for a duplicate)
  bool duplicate = false;  // the id was already stored within the window: nothing was added
};

struct StreamMessage {
  uint64_t sequence = 0;
  std::string data;
};

class JetStream {
 public:
  // Connects to any of `urls` ("nats://host:port") and reconnects forever,
  // to whichever answers. nullptr with `error` if none answers within the
  // client's connect timeout.
  [[nodiscard]] static std::unique_ptr<JetStream> connect(const std::vector<std::string>& urls, std::string& error);
  ~JetStream();
  JetStream(const JetStream&) = delete;
  JetStream& operator=(const JetStream&) = delete;

  // Creates the stream (file storage) unless it exists; an existing one is
  // left as it is.
  [[nodiscard]] bool ensure_stream(const StreamSettings& settings, std::string& error);
  // The name of the server leading `stream` now ("" if unknown).
  [[nodiscard]] std::string stream_leader(const std::string& stream, std::string& error);
  // The sequence of the last message in `stream` (0: empty), or nullopt
  // with `error`.
  [[nodiscard]] std::optional<uint64_t> last_sequence(const std::string& stream, std::string& error);

  // Publishes `data` with the message id `id` and waits up to `timeout` for
  // the stream's acknowledgement, publishing again with the same id after a
  // failed try (JetStream stores it once): a stream leader dying or being
  // elected costs the election, not the write. nullopt with the last try's
  // `error` when no acknowledgement came within `timeout` (the message may
  // or may not be stored: a later publish with the same id is still safe).
  [[nodiscard]] std::optional<Published> publish(const std::string& subject, std::string_view data,
                                                 const std::string& id, std::chrono::milliseconds timeout,
                                                 std::string& error);

  // The largest message the connected server takes (its max_payload; 1 MiB
  // unless configured).
  [[nodiscard]] std::size_t max_payload() const;

  // Publishes `data` on `subject` without JetStream (core NATS: no storage,
  // no acknowledgement), for notices such as a replica's applied position.
  [[nodiscard]] bool notify(const std::string& subject, std::string_view data, std::string& error);

  // Core NATS messages on a subject from now on (notices), in arrival order.
  class Listener {
   public:
    ~Listener();
    Listener(const Listener&) = delete;
    Listener& operator=(const Listener&) = delete;
    // The next message's data, or nullopt when none came within `timeout`.
    [[nodiscard]] std::optional<std::string> next(std::chrono::milliseconds timeout);

   private:
    friend class JetStream;
    struct Impl;
    explicit Listener(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
  };
  [[nodiscard]] std::unique_ptr<Listener> listen(const std::string& subject, std::string& error);

  class Reader {
   public:
    ~Reader();
    Reader(const Reader&) = delete;
    Reader& operator=(const Reader&) = delete;
    // The next message in stream order, or nullopt when none came within
    // `timeout` (error empty) or the subscription failed (error set).
    [[nodiscard]] std::optional<StreamMessage> next(std::chrono::milliseconds timeout, std::string& error);

   private:
    friend class JetStream;
    struct Impl;
    explicit Reader(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
  };

  // An in-order reader of `subject` from stream sequence `from` (>= 1).
  // nullptr with `error` when the consumer could not be made -- e.g. a
  // timeout while JetStream elects a new leader after a member died: callers
  // retry.
  [[nodiscard]] std::unique_ptr<Reader> read(const std::string& subject, uint64_t from, std::string& error);

 private:
  struct Impl;
  explicit JetStream(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace crowd::cluster
