#include "router/replica_fanout.h"

#include <algorithm>
#include <optional>

namespace crowd::router {
namespace {

// How long a replica that failed to answer is put last.
constexpr auto kSuspectFor = std::chrono::seconds(5);

}  // namespace

// One gather's state, shared with its requests: a hedged request may finish
// after gather() returned.
struct ReplicaFanOut::Gather {
  std::mutex mu;
  std::condition_variable changed;
  std::vector<std::optional<ShardAnswer>> answers;
  std::vector<int> in_flight;
  std::vector<std::string> last_error;
};

ReplicaFanOut::ReplicaFanOut(unsigned threads, std::chrono::milliseconds hedge_after) : hedge_after_(hedge_after) {
  for (unsigned i = 0; i < threads; ++i) threads_.emplace_back([this] { work(); });
}

ReplicaFanOut::~ReplicaFanOut() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  ready_.notify_all();
  for (auto& t : threads_) t.join();
}

void ReplicaFanOut::work() {
  Clients clients;
  for (;;) {
    Task task;
    {
      std::unique_lock lock(mu_);
      ready_.wait(lock, [&] { return stop_ || !tasks_.empty(); });
      if (stop_ && tasks_.empty()) return;
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    task(clients);
  }
}

void ReplicaFanOut::submit(Task task) {
  {
    std::lock_guard lock(mu_);
    tasks_.push_back(std::move(task));
  }
  ready_.notify_one();
}

std::vector<std::string> ReplicaFanOut::order(uint32_t shard, const std::vector<Replica>& replicas) {
  std::vector<std::string> urls;
  urls.reserve(replicas.size());
  std::lock_guard lock(suspects_mu_);
  const std::size_t n = replicas.size();
  const uint64_t first = n == 0 ? 0 : turns_[shard]++ % n;
  const auto now = Clock::now();
  std::vector<std::string> late;
  for (std::size_t i = 0; i < n; ++i) {
    const std::string& url = replicas[(first + i) % n].url;
    const auto s = suspects_.find(url);
    if (s != suspects_.end() && s->second > now) {
      late.push_back(url);
    } else {
      urls.push_back(url);
    }
  }
  urls.insert(urls.end(), late.begin(), late.end());
  return urls;
}

void ReplicaFanOut::suspect(const std::string& url) {
  std::lock_guard lock(suspects_mu_);
  suspects_[url] = Clock::now() + kSuspectFor;
}

std::vector<ShardAnswer> ReplicaFanOut::gather(const Layout& layout, const std::vector<uint32_t>& shards,
                                               const std::function<ShardRequest(uint32_t)>& request_of,
                                               Clock::time_point deadline) {
  const std::size_t n = shards.size();
  auto g = std::make_shared<Gather>();
  g->answers.resize(n);
  g->in_flight.assign(n, 0);
  g->last_error.assign(n, "the shard has no replica");
  std::vector<std::vector<std::string>> urls(n);
  std::vector<std::size_t> tried(n, 0);
  std::vector<Clock::time_point> hedge_at(n, Clock::time_point::max());
  std::vector<std::shared_ptr<const ShardRequest>> requests(n);
  for (std::size_t i = 0; i < n; ++i) {
    const uint32_t k = shards[i];
    if (k < layout.replicas.size()) urls[i] = order(k, layout.replicas[k]);
    requests[i] = std::make_shared<const ShardRequest>(request_of(k));
  }
  // Sends shard i's request to its next untried replica (g->mu held).
  auto launch = [&](std::size_t i) {
    const std::string url = urls[i][tried[i]++];
    ++g->in_flight[i];
    hedge_at[i] = Clock::now() + hedge_after_;
    submit([this, g, i, url, request = requests[i], deadline](Clients& clients) {
      auto& client = clients[url];
      if (!client) {
        // "http://host:port"
        const std::string_view rest = std::string_view(url).substr(url.find("//") + 2);
        const auto host_port = cluster::split_host_port(rest);
        client = std::make_unique<cluster::HttpClient>(host_port ? host_port->first : std::string(rest),
                                                       host_port ? host_port->second : "80");
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      cluster::HttpAnswer answer;
      if (left.count() > 0) {
        answer = client->send(request->method, request->target, request->body, left);
      } else {
        answer.error = "timed out";
      }
      if (answer.status == 0) suspect(url);
      {
        std::lock_guard lock(g->mu);
        --g->in_flight[i];
        if (answer.status != 0 && !g->answers[i]) {
          g->answers[i] = ShardAnswer{answer.status, std::move(answer.body), url, {}};
        } else if (answer.status == 0) {
          g->last_error[i] = url + ": " + answer.error;
        }
      }
      g->changed.notify_all();
    });
  };

  std::unique_lock lock(g->mu);
  for (std::size_t i = 0; i < n; ++i) {
    if (!urls[i].empty()) launch(i);
  }
  for (;;) {
    const auto now = Clock::now();
    bool waiting = false;
    auto wake = deadline;
    for (std::size_t i = 0; i < n; ++i) {
      if (g->answers[i]) continue;
      const bool untried = tried[i] < urls[i].size();
      if (untried && g->in_flight[i] == 0) {
        failovers_.fetch_add(1, std::memory_order_relaxed);
        launch(i);
      } else if (untried && now >= hedge_at[i]) {
        hedges_.fetch_add(1, std::memory_order_relaxed);
        // The slow replica goes last for the next requests too.
        suspect(urls[i][tried[i] - 1]);
        launch(i);
      }
      if (g->in_flight[i] > 0) {
        waiting = true;
        if (tried[i] < urls[i].size()) wake = std::min(wake, hedge_at[i]);
      }
    }
    if (!waiting || now >= deadline) break;
    g->changed.wait_until(lock, wake);
  }
  std::vector<ShardAnswer> out(n);
  for (std::size_t i = 0; i < n; ++i) {
    if (g->answers[i]) {
      out[i] = *g->answers[i];
    } else {
      out[i].error = g->last_error[i];
      if (g->in_flight[i] > 0) out[i].error = "no replica answered in time";
    }
  }
  return out;
}

}  // namespace crowd::router
