#include "server/tag_listing.h"

#include "server/json_writer.h"

namespace crowd::server {

std::string tags_body(std::span<const TagRow> rows, uint64_t universe, uint64_t matching) {
  std::string body;
  body.reserve(64 + rows.size() * 40);
  JsonWriter w(body);
  w.raw("{\"tags\":[");
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const TagRow& r = rows[i];
    if (i != 0) w.raw(",");
    w.raw("{").key("tag").string(r.tag).raw(",").key("count").number(r.count);
    w.raw(",").key("coverage").real(universe == 0 ? 0.0 : static_cast<double>(r.count) / static_cast<double>(universe));
    w.raw(",").key("kind").string(r.dated ? "dated" : "tag");
    if (!r.label.empty()) w.raw(",").key("label").string(r.label);
    w.raw("}");
  }
  w.raw("],").key("total").number(matching).raw("}");
  return body;
}

}  // namespace crowd::server
