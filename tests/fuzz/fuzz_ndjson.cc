// Fuzz target: NDJSON ingest bodies (POST /v1/ingest, --load x.ndjson),
// server/ingest_parser.h. Input: the body. Checks: ingest_fuzz.h.
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/ingest_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return crowd::fuzz::check_ingest(data, size, /*csv=*/false);
}
