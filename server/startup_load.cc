#include "server/startup_load.h"

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <unistd.h>

#include "data/synthetic_catalog.h"
#include "data/synthetic_ids.h"
#include "data/synthetic_load.h"
#include "data/synthetic_population.h"
#include "data/taobao_log.h"
#include "index/bulk_loader.h"
#include "server/ingest_parser.h"

namespace crowd::server {
namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool read_file(const std::string& path, std::string& out, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cannot open " + path;
    return false;
  }
  in.seekg(0, std::ios::end);
  const auto size = static_cast<std::size_t>(in.tellg());
  in.seekg(0);
  out.resize(size);
  if (!in.read(out.data(), static_cast<std::streamsize>(size))) {
    error = "cannot read " + path;
    return false;
  }
  ensure_padding(out);
  return true;
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

uint64_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  uint64_t size = 0;
  uint64_t resident = 0;
  if (!(statm >> size >> resident)) return 0;
  return resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

bool load_startup_data(const Config& config, Store& store, std::string& error) {
  if (!config.demo_users && config.load_files.empty() && config.taobao_files.empty()) return true;
  if (store.view()->ordinal_count() != 0) {
    std::cerr << "crowdd: the restored index is not empty; skipping --demo/--load\n";
    return true;
  }
  bool ok = true;
  const bool stored = store.bulk_load(
      [&](Index& index) {
        if (config.demo_users) {
          const auto t = std::chrono::steady_clock::now();
          const synth::Population population(synth::PopulationOptions{*config.demo_users, config.seed});
          BulkLoader loader(index);
          // Dated behaviour over the 180 days before today (the day clock).
          if (!synth::load_population(population, loader, 2, day_clock_of(config).today())) {
            error = "--demo: the user table is full";
            ok = false;
            return;
          }
          const auto assignments = loader.finish();
          std::cerr << "crowdd: demo data: " << *config.demo_users << " users, " << assignments
                    << " assignments, seed " << config.seed << ", in " << seconds_since(t) << " s\n";
          // Their device IDs and phones (data/synthetic_ids.h), in the same
          // load, so the snapshot written after it holds the links.
          const auto t_ids = std::chrono::steady_clock::now();
          synth::IdLinkStats linked;
          if (!synth::link_population_ids(population, index, linked, error)) {
            error = "--demo: " + error;
            ok = false;
            return;
          }
          std::cerr << "crowdd: demo IDs: " << linked.ids() << " IDs of " << linked.users << " users ("
                    << linked.oaids << " oaid, " << linked.idfas << " idfa, " << linked.phones
                    << " phone_sha256), in " << seconds_since(t_ids) << " s\n";
          // Its tag library: labels, exclusive fields, the category tree.
          WriteBatch library;
          for (const auto& [field, meta] : synth::demo_catalog(population)) {
            library.set_field_meta(field, catalog::to_json(meta));
            library.set_exclusive_field(field, meta.kind == catalog::FieldKind::kExclusive);
          }
          WriteResult ignored;
          if (!index.apply(library, ignored)) {
            error = "--demo: the tag library could not be applied";
            ok = false;
            return;
          }
        }
        for (const auto& path : config.load_files) {
          if (!ok) return;
          const auto t = std::chrono::steady_clock::now();
          std::string body;
          if (!read_file(path, body, error)) {
            ok = false;
            return;
          }
          BulkLoader loader(index);
          BulkSink sink(loader);
          IngestCounts counts;
          const bool csv = ends_with(path, ".csv");
          if (!csv && !ends_with(path, ".ndjson") && !ends_with(path, ".jsonl") && !ends_with(path, ".json")) {
            error = path + ": --load takes .ndjson, .jsonl, .json or .csv files";
            ok = false;
            return;
          }
          if (auto e = csv ? parse_csv(body, sink, counts)
                         : parse_ndjson(body, sink, counts, day_clock_of(config).event_limit())) {
            error = path + ":" + std::to_string(e->line.value_or(0)) + ": " + e->message;
            ok = false;
            return;
          }
          loader.finish();
          WriteResult ignored;
          if (!sink.values_batch().empty() && !index.apply(sink.values_batch(), ignored)) {
            error = path + ": no user ordinal left for its values";
            ok = false;
            return;
          }
          std::cerr << "crowdd: loaded " << path << ": " << counts.records << " records, " << counts.pairs
                    << " assignments, " << counts.values << " values, in " << seconds_since(t) << " s\n";
        }
        for (const auto& path : config.taobao_files) {
          if (!ok) return;
          const auto t = std::chrono::steady_clock::now();
          std::ifstream in(path, std::ios::binary);
          if (!in) {
            error = "cannot open " + path;
            ok = false;
            return;
          }
          BulkLoader loader(index);
          TaobaoStats stats;
          std::string why;
          if (!load_taobao(in, loader, stats, why)) {
            error = path + ": " + why;
            ok = false;
            return;
          }
          loader.finish();
          std::cerr << "crowdd: loaded Taobao log " << path << ": " << stats.rows << " rows, " << stats.users
                    << " users, " << stats.out_of_window << " rows outside the collection window (kept, undated), in "
                    << seconds_since(t) << " s\n";
        }
      },
      error);
  return ok && stored;
}

}  // namespace crowd::server
