#include "tests/support/random_index.h"

#include <algorithm>
#include <cmath>
#include <random>

#include "index/bulk_loader.h"
#include "index/write_batch.h"

namespace crowd::test {
namespace {

// Tag names in a few fields, so prefixes ("cat:1*", "城市:*") match several.
std::vector<std::string> make_names(std::size_t count, std::mt19937_64& rng) {
  static const char* const kSpecial[] = {
      "gender:female", "gender:male", "城市:杭州", "城市:上海", "城市:北京", "emoji:🎉", "brand x:fan", "and", "Or",
      "quote\"d",      "back\\slash", "lookalike", "within",    "a*b",       "x=1",
  };
  std::vector<std::string> names;
  for (const char* s : kSpecial) {
    if (names.size() == count) break;
    names.emplace_back(s);
  }
  std::uniform_int_distribution<int> category(100, 130);
  const char* const kActions[] = {"pv", "buy", "cart", "fav"};
  while (names.size() < count) {
    std::string name;
    switch (names.size() % 3) {
      case 0:
        name = "cat:" + std::to_string(category(rng)) + ":" + kActions[rng() % 4];
        break;
      case 1:
        name = "age:" + std::to_string(18 + rng() % 50);
        break;
      default:
        name = "seg" + std::to_string(rng() % 1000);
        break;
    }
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(std::move(name));
  }
  return names;
}

}  // namespace

std::vector<std::string> random_tag_names(std::size_t count, uint64_t seed) {
  std::mt19937_64 rng(seed);
  return make_names(count, rng);
}

RandomIndex make_random_index(const RandomIndexSpec& spec) {
  std::mt19937_64 rng(spec.seed);
  RandomIndex out;
  out.index = std::make_unique<Index>();
  out.tag_names = make_names(spec.tags, rng);
  const std::size_t tag_count = out.tag_names.size();

  // Densities from 0.5 down to 0.001, log-spaced; shuffled so that special
  // names get all sorts.
  std::vector<double> density(tag_count);
  for (std::size_t t = 0; t < tag_count; ++t) {
    const double f = tag_count > 1 ? static_cast<double>(t) / static_cast<double>(tag_count - 1) : 0.0;
    density[t] = 0.5 * std::pow(0.002, f);
  }
  std::shuffle(density.begin(), density.end(), rng);
  // Clustered tags: held by users in a window of the ordinal range.
  std::vector<std::pair<std::size_t, std::size_t>> window(tag_count, {0, spec.users});
  for (std::size_t t = 0; t < tag_count; t += 3) {
    const std::size_t width =
        std::max<std::size_t>(1, static_cast<std::size_t>(density[t] * static_cast<double>(spec.users)));
    const std::size_t start = rng() % (spec.users - std::min(width, spec.users - 1));
    window[t] = {start, std::min(spec.users, start + width)};
    density[t] = 0.97;  // nearly every user of the window: long runs with a few gaps
  }

  // External IDs: small, mid-range and above 2^53, all distinct.
  std::vector<UserId> ids;
  ids.reserve(spec.users * 2);
  {
    std::uniform_int_distribution<UserId> any;
    std::size_t next_small = 1;
    while (ids.size() < spec.users + spec.users / 50 + 10) {
      switch (rng() % 3) {
        case 0:
          ids.push_back(next_small++);
          break;
        case 1:
          ids.push_back((UserId{1} << 53) + rng() % (UserId{1} << 40));
          break;
        default:
          ids.push_back(any(rng));
          break;
      }
    }
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    std::shuffle(ids.begin(), ids.end(), rng);
  }

  std::uniform_real_distribution<double> unit(0.0, 1.0);
  const auto tags_of = [&](std::size_t u) {
    std::vector<uint32_t> chosen;
    for (uint32_t t = 0; t < tag_count; ++t) {
      if (u < window[t].first || u >= window[t].second) continue;
      if (unit(rng) < density[t]) chosen.push_back(t);
    }
    return chosen;
  };

  // Initial load.
  if (spec.bulk) {
    BulkLoader loader(*out.index);
    std::vector<uint32_t> local(tag_count);
    for (std::size_t t = 0; t < tag_count; ++t) local[t] = loader.tag(out.tag_names[t]);
    for (std::size_t u = 0; u < spec.users; ++u) {
      const auto chosen = tags_of(u);
      std::vector<uint32_t> mapped;
      for (const uint32_t t : chosen) {
        mapped.push_back(local[t]);
        out.model.add(ids[u], out.tag_names[t]);
      }
      if (chosen.empty()) out.model.touch(ids[u]);
      (void)loader.add(ids[u], mapped);
    }
    loader.finish();
  } else {
    constexpr std::size_t kBatchUsers = 10'000;
    for (std::size_t first = 0; first < spec.users; first += kBatchUsers) {
      WriteBatch batch;
      for (std::size_t u = first; u < std::min(spec.users, first + kBatchUsers); ++u) {
        std::vector<uint32_t> mapped;
        for (const uint32_t t : tags_of(u)) {
          mapped.push_back(batch.intern(out.tag_names[t]));
          out.model.add(ids[u], out.tag_names[t]);
        }
        if (mapped.empty()) out.model.touch(ids[u]);
        batch.add(ids[u], mapped);
      }
      WriteResult r;
      (void)out.index->apply(batch, r);
    }
  }

  // Updates, in a few batches: removals (some users lose every tag and stay
  // in the universe), erasures, re-additions of erased users, new users, a
  // tag created and then emptied.
  const std::string emptied = "temp:emptied";
  out.tag_names.push_back(emptied);
  for (int round = 0; round < 3; ++round) {
    WriteBatch batch;
    const std::size_t changes = spec.users / 100 + 5;
    for (std::size_t i = 0; i < changes; ++i) {
      const std::size_t u = rng() % spec.users;
      const UserId id = ids[u];
      switch (rng() % 6) {
        case 0:
        case 1: {  // remove a few tags, sometimes all of them
          std::vector<uint32_t> removed;
          const bool all = rng() % 4 == 0;
          for (uint32_t t = 0; t < tag_count; ++t) {
            if (all || rng() % 5 == 0) {
              removed.push_back(batch.intern(out.tag_names[t]));
              out.model.remove(id, out.tag_names[t]);
            }
          }
          batch.remove(id, removed);
          break;
        }
        case 2:
          batch.erase(id);
          out.model.erase(id);
          break;
        case 3: {  // (re-)add tags: an erased user comes back with only these
          std::vector<uint32_t> added;
          for (uint32_t t = 0; t < tag_count; ++t) {
            if (rng() % 8 == 0) {
              added.push_back(batch.intern(out.tag_names[t]));
              out.model.add(id, out.tag_names[t]);
            }
          }
          if (added.empty()) out.model.touch(id);
          batch.add(id, added);
          break;
        }
        case 4: {  // a new user
          const UserId fresh = ids[spec.users + rng() % (ids.size() - spec.users)];
          const uint32_t t = static_cast<uint32_t>(rng() % tag_count);
          const uint32_t local = batch.intern(out.tag_names[t]);
          batch.add(fresh, std::span<const uint32_t>(&local, 1));
          out.model.add(fresh, out.tag_names[t]);
          break;
        }
        default: {  // the tag that ends up empty
          const uint32_t local = batch.intern(emptied);
          if (round < 2) {
            batch.add(id, std::span<const uint32_t>(&local, 1));
            out.model.add(id, emptied);
          }
          break;
        }
      }
    }
    if (round == 2) {
      // Empty the temporary tag completely.
      const uint32_t local = batch.intern(emptied);
      for (const UserId id : ids) {
        batch.remove(id, std::span<const uint32_t>(&local, 1));
        out.model.remove(id, emptied);
      }
    }
    WriteResult r;
    (void)out.index->apply(batch, r);
  }
  return out;
}

}  // namespace crowd::test
