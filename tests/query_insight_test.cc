// query::insight against the analytics model (tests/support/analytics_model.h):
// per-tag counts in random crowds over a random index, checked user by user,
// with every option (fields, top, min_count, sort), empty crowds, unknown
// fields and hidden system tags.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "index/write_batch.h"
#include "query/insight.h"
#include "query/parser.h"
#include "query/plan_set.h"
#include "query/query.h"
#include "tests/support/analytics_model.h"
#include "tests/support/random_index.h"

namespace crowd::query {
namespace {

using test::IdList;
using test::ModelRow;

class InsightTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    data_ = new test::RandomIndex(test::make_random_index({.seed = 7, .users = 20'000, .tags = 40}));
    // A system tag (a day tag) on some users: insight must never list it.
    WriteBatch batch;
    const uint32_t hidden = batch.intern_day("hidden", 0);
    const auto everyone = data_->model.evaluate(std::get<Ast>(parse("ALL")));
    for (std::size_t i = 0; i < everyone.size(); i += 3) batch.add(everyone[i], std::span(&hidden, 1));
    WriteResult r;
    ASSERT_TRUE(data_->index->apply(batch, r));
    for (const auto& tag : data_->model.tags()) {
      holders_[tag] = data_->model.evaluate(make_tag(tag));
    }
  }
  static void TearDownTestSuite() {
    delete data_;
    data_ = nullptr;
  }

  // The crowd of `q` per the model.
  static IdList model_crowd(const std::string& q) {
    auto ast = parse(q);
    EXPECT_TRUE(std::holds_alternative<Ast>(ast)) << q;
    return data_->model.evaluate(std::get<Ast>(ast));
  }

  // Runs insight on `q` and checks every field against the model.
  static void check(const std::string& q, const InsightOptions& options) {
    SCOPED_TRACE(q);
    const auto view = data_->index->view();
    auto compiled = compile(q, *view, Options{.lenient = true});
    ASSERT_TRUE(std::holds_alternative<Plan>(compiled));
    Evaluator evaluator;
    const PlanSet crowd(std::get<Plan>(compiled), *view, evaluator);
    const auto result = insight(crowd.bits(), *view, options);
    ASSERT_TRUE(std::holds_alternative<InsightReport>(result)) << std::get<UnknownField>(result).field;
    const auto& report = std::get<InsightReport>(result);

    const IdList expected_crowd = model_crowd(q);
    EXPECT_EQ(report.crowd, expected_crowd.size());
    EXPECT_EQ(report.total, data_->model.universe_size());

    std::vector<std::string> fields = options.fields;
    if (fields.empty()) {
      std::set<std::string> all;
      for (const auto& [tag, users] : holders_) all.insert(test::field_of(tag));
      fields.assign(all.begin(), all.end());
    }
    ASSERT_EQ(report.fields.size(), fields.size());
    for (std::size_t i = 0; i < fields.size(); ++i) {
      const auto& got = report.fields[i];
      EXPECT_EQ(got.field, fields[i]);
      const auto want = test::model_insight_field(expected_crowd, holders_, fields[i], options.min_count, options.top,
                                                  options.order == InsightOrder::kCount);
      const auto field_tags = test::model_insight_field(expected_crowd, holders_, fields[i], 0, 0, false).size();
      EXPECT_EQ(got.tags, field_tags) << fields[i];
      ASSERT_EQ(got.rows.size(), want.size()) << fields[i];
      for (std::size_t k = 0; k < want.size(); ++k) {
        EXPECT_EQ(view->dictionary().name(got.rows[k].tag), want[k].tag) << fields[i] << " row " << k;
        EXPECT_EQ(got.rows[k].count, want[k].count) << want[k].tag;
        EXPECT_EQ(got.rows[k].population, want[k].population) << want[k].tag;
      }
    }
  }

  static test::RandomIndex* data_;
  static std::map<std::string, IdList> holders_;
};
test::RandomIndex* InsightTest::data_ = nullptr;
std::map<std::string, IdList> InsightTest::holders_;

// Crowds from several tags of the index, in query text.
std::vector<std::string> crowds(const std::vector<std::string>& names) {
  return {
      test::quoted(names[0]),
      test::quoted(names[1]) + " AND NOT " + test::quoted(names[20]),
      test::quoted(names[25]) + " OR " + test::quoted(names[30]) + " OR 城市:*",
      "ALL",
      "NOT (" + test::quoted(names[2]) + " OR " + test::quoted(names[21]) + ")",
  };
}

TEST_F(InsightTest, EveryFieldMatchesTheModel) {
  for (const auto& q : crowds(data_->tag_names)) check(q, InsightOptions{});
}

TEST_F(InsightTest, EveryTagWithMinCountZeroSortedByCount) {
  InsightOptions options;
  options.min_count = 0;
  options.order = InsightOrder::kCount;
  for (const auto& q : crowds(data_->tag_names)) check(q, options);
}

TEST_F(InsightTest, AskedFieldsTopAndMinCount) {
  InsightOptions options;
  options.fields = {"cat", "gender", "age", "城市", "and", "temp"};
  options.top = 3;
  options.min_count = 50;
  for (const auto& q : crowds(data_->tag_names)) check(q, options);
  options.top = 1;
  options.min_count = 0;
  for (const auto& q : crowds(data_->tag_names)) check(q, options);
}

TEST_F(InsightTest, DuplicateFieldsAreReportedOnce) {
  const auto view = data_->index->view();
  InsightOptions options;
  options.fields = {"gender", "gender"};
  const auto result = insight(view->universe().bits.get(), *view, options);
  ASSERT_TRUE(std::holds_alternative<InsightReport>(result));
  EXPECT_EQ(std::get<InsightReport>(result).fields.size(), 1u);
}

TEST_F(InsightTest, UnknownFieldIsNamed) {
  const auto view = data_->index->view();
  std::vector<std::string> bad_fields = {"nosuchfield", "gender:female", "gend"};
  // A system tag's own name, as the index stores it, is no field.
  for (TagId id = 0; id < view->dictionary().size(); ++id) {
    if (view->dictionary().is_system(id)) {
      bad_fields.push_back(view->dictionary().name(id));
      break;
    }
  }
  ASSERT_EQ(bad_fields.size(), 4u);
  for (const std::string& bad : bad_fields) {
    InsightOptions options;
    options.fields = {"gender", bad, "also_unknown"};
    const auto result = insight(view->universe().bits.get(), *view, options);
    ASSERT_TRUE(std::holds_alternative<UnknownField>(result)) << bad;
    EXPECT_EQ(std::get<UnknownField>(result).field, bad);
  }
}

TEST_F(InsightTest, EmptyCrowdHasNoTgi) {
  const auto view = data_->index->view();
  const Bitmap empty;
  InsightOptions options;
  options.min_count = 0;
  const auto result = insight(empty.get(), *view, options);
  ASSERT_TRUE(std::holds_alternative<InsightReport>(result));
  const auto& report = std::get<InsightReport>(result);
  EXPECT_EQ(report.crowd, 0u);
  uint64_t rows = 0;
  for (const auto& f : report.fields) {
    for (const auto& row : f.rows) {
      ++rows;
      EXPECT_EQ(row.count, 0u);
      EXPECT_FALSE(tgi(row, report.crowd, report.total).has_value());
      EXPECT_FALSE(crowd_share(row, report.crowd).has_value());
    }
  }
  EXPECT_EQ(rows, holders_.size());
  // With the default min_count of 1 nothing is left.
  const auto trimmed = insight(empty.get(), *view, InsightOptions{});
  for (const auto& f : std::get<InsightReport>(trimmed).fields) EXPECT_TRUE(f.rows.empty()) << f.field;
}

TEST_F(InsightTest, SystemTagsNeverAppear) {
  const auto view = data_->index->view();
  InsightOptions options;
  options.min_count = 0;
  const auto result = insight(view->universe().bits.get(), *view, options);
  for (const auto& f : std::get<InsightReport>(result).fields) {
    EXPECT_FALSE(reserved_tag_name(f.field));
    for (const auto& row : f.rows) EXPECT_FALSE(view->dictionary().is_system(row.tag));
  }
}

TEST(InsightRatios, TgiIsCrowdShareOverPopulationShare) {
  const InsightRow row{0, 30, 200};
  // 30 of a crowd of 100 (30%) against 200 of 1000 (20%): TGI 150.
  EXPECT_DOUBLE_EQ(*crowd_share(row, 100), 0.3);
  EXPECT_DOUBLE_EQ(*population_share(row, 1000), 0.2);
  EXPECT_DOUBLE_EQ(*tgi(row, 100, 1000), 150.0);
  EXPECT_FALSE(tgi(InsightRow{0, 0, 0}, 100, 1000).has_value());
  EXPECT_FALSE(tgi(row, 0, 1000).has_value());
  EXPECT_FALSE(population_share(row, 0).has_value());
}

}  // namespace
}  // namespace crowd::query
