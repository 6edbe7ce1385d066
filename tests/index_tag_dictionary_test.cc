// TagDictionary against a naive model (a std::map from name to id and the
// names in byte order), over many small with_added steps that cross chunk
// boundaries — the path a saved-crowd PUT takes for each new name — and one
// big batch; every older dictionary must still answer as it did.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>
#include <vector>

#include "index/tag_dictionary.h"

namespace crowd {
namespace {

struct Model {
  std::map<std::string, TagId> ids;
  std::vector<std::string> by_id;
  void add(const std::vector<std::string>& names) {
    for (const auto& n : names) {
      if (ids.emplace(n, static_cast<TagId>(by_id.size())).second) by_id.push_back(n);
    }
  }
};

void expect_same(const TagDictionary& d, const Model& m, const std::string& context) {
  ASSERT_EQ(d.size(), m.by_id.size()) << context;
  for (TagId id = 0; id < m.by_id.size(); ++id) {
    ASSERT_EQ(d.name(id), m.by_id[id]) << context;
    ASSERT_EQ(d.find(m.by_id[id]), id) << context;
  }
  std::vector<std::string> users;  // the model's users' tags in byte order
  std::vector<std::string> system;
  for (const auto& [name, id] : m.ids) (reserved_tag_name(name) ? system : users).push_back(name);
  const auto sorted = d.sorted();
  ASSERT_EQ(sorted.size(), users.size()) << context;
  for (std::size_t i = 0; i < users.size(); ++i) ASSERT_EQ(d.name(sorted[i]), users[i]) << context << " at " << i;
  ASSERT_EQ(d.user_tag_count(), users.size()) << context;
  const auto sys = d.system_with_prefix("\x1f");
  ASSERT_EQ(sys.size(), system.size()) << context;
  for (std::size_t i = 0; i < system.size(); ++i) ASSERT_EQ(d.name(sys[i]), system[i]) << context;
  EXPECT_FALSE(d.find("never added")) << context;
}

TEST(TagDictionary, ManySmallAddsMatchTheModelAndKeepOlderVersions) {
  std::mt19937_64 rng(14);
  Model m;
  std::vector<std::shared_ptr<const TagDictionary>> versions{std::make_shared<TagDictionary>()};
  std::vector<Model> models{m};
  auto d = versions.back();
  for (int step = 0; step < 3000; ++step) {
    std::vector<std::string> names;
    const int k = 1 + static_cast<int>(rng() % 3);
    for (int i = 0; i < k; ++i) {
      const auto r = rng() % 5000;
      // Long names (no small-string storage) and short ones, system names
      // (a saved crowd's) among users', repeats of earlier names.
      names.push_back(r % 4 == 0 ? "\x1f" "crowd:c" + std::to_string(r)
                                 : r % 4 == 1 ? "a-rather-long-tag-name-beyond-sso:" + std::to_string(r)
                                              : "t" + std::to_string(r));
    }
    names.push_back(names.front());  // a duplicate inside the batch
    d = d->with_added(names);
    m.add(names);
    if (step % 500 == 0) {
      versions.push_back(d);
      models.push_back(m);
    }
  }
  expect_same(*d, m, "latest");
  ASSERT_GT(d->size(), 2048u) << "should cross several chunks";
  for (std::size_t v = 0; v < versions.size(); ++v) expect_same(*versions[v], models[v], "version " + std::to_string(v));

  // One big batch, and from_names of the same names in id order.
  std::vector<std::string> big;
  for (int i = 0; i < 5000; ++i) big.push_back("big:" + std::to_string(rng() % 100000));
  const auto bigger = d->with_added(big);
  Model mb = m;
  mb.add(big);
  expect_same(*bigger, mb, "big batch");
  expect_same(*TagDictionary::from_names(mb.by_id), mb, "from_names");
  expect_same(*d, m, "latest, after the big batch");
}

// A saved crowd's PUT adds one name: the new dictionary must share all but
// one of the old one's hash shards, not rebuild the map (issue 14, 8b).
TEST(TagDictionary, OneNewNameCopiesOneShard) {
  std::vector<std::string> names;
  for (int i = 0; i < 20000; ++i) {
    std::string name("\x1f" "crowd:c");  // appended: GCC 12 warns falsely (-Wrestrict) on "lit" + string
    name += std::to_string(i);
    names.push_back(std::move(name));
  }
  const auto d = TagDictionary::from_names(names);
  ASSERT_GT(d->shard_count(), 8u);
  const auto next = d->with_added(std::vector<std::string>{"\x1f" "crowd:new"});
  ASSERT_EQ(next->shard_count(), d->shard_count());
  EXPECT_EQ(next->shards_shared_with(*d), d->shard_count() - 1);
  EXPECT_EQ(next->find("\x1f" "crowd:new"), TagId{20000});
  EXPECT_FALSE(d->find("\x1f" "crowd:new"));
  EXPECT_EQ(next->find("\x1f" "crowd:c123"), TagId{123});
}

}  // namespace
}  // namespace crowd
