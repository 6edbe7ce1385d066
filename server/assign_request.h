// The body of POST /v1/assign -- {"add"?: [{"id", "tags", ...}], "remove"?:
// [...]} -- read into one WriteBatch, adds before removes whatever the
// body's order (a pair in both ends up cleared). Shared by crowdd's handler
// and a cluster router, which splits the batch by shard before publishing.
#pragma once

#include <optional>
#include <string_view>

#include "index/write_batch.h"
#include "server/api_error.h"
#include "server/event_days.h"
#include "server/ingest_parser.h"

namespace crowd::server {

// Entries naming IDs become persons through `persons`, numbered from 1
// across add's entries, then remove's (for the 409 that names one).
[[nodiscard]] std::optional<ApiError> read_assign_body(std::string_view body, WriteBatch& batch,
                                                       const EventDayLimit& latest, PersonSink& persons);

}  // namespace crowd::server
