#include "activation/push_payload.h"

namespace crowd::activation {

const char* format_name(PayloadFormat f) { return f == PayloadFormat::kCsv ? "csv" : "ndjson"; }

const char* content_type(PayloadFormat f) {
  return f == PayloadFormat::kCsv ? "text/csv; charset=utf-8" : "application/x-ndjson";
}

}  // namespace crowd::activation
