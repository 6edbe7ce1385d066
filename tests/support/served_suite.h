// ServedSuite: one real crowdd shared by every test of a suite (e2e tests that
// only read, or write where no other test looks). SetUpTestSuite starts it and
// loads the suite's population once; TearDownTestSuite stops it and expects a
// clean exit (0), so a crash on the way out fails the suite. Tests that need a
// fresh server each (crash, persistence, writes that other tests would see)
// start their own ServerProcess instead.
//
//   class StatsTest : public ServedSuite {
//    protected:
//     static void SetUpTestSuite() {
//       ASSERT_NO_FATAL_FAILURE(start({"--threads", "2"}));
//       ASSERT_NO_FATAL_FAILURE(load(population()));
//     }
//   };
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "tests/support/server_process.h"

namespace crowd::test {

class ServedSuite : public ::testing::Test {
 protected:
  // Starts crowdd with `args` (plus the loopback host and an ephemeral port).
  static void start(std::vector<std::string> args) {
    server_ = std::make_unique<ServerProcess>(std::move(args));
    ASSERT_TRUE(server_->ok()) << server_->log();
  }
  // Ingests an NDJSON population; its answer is kept in loaded_.
  static void load(const std::string& ndjson) {
    loaded_ = server_->post("/v1/ingest", ndjson, "application/x-ndjson");
    ASSERT_EQ(loaded_.status, 200) << loaded_.body;
  }
  static void TearDownTestSuite() {
    if (server_ == nullptr) return;
    EXPECT_EQ(server_->stop(), 0) << server_->log();
    server_.reset();
  }

  inline static std::unique_ptr<ServerProcess> server_;
  inline static HttpResult loaded_;
};

}  // namespace crowd::test
