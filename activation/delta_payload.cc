#include "activation/delta_payload.h"

#include <charconv>

#include "identity/id_codec.h"

namespace crowd::activation {
namespace {

// An ID as one JSON string's content: string IDs hold no control characters
// (identity refuses them), so only '"' and '\' need escaping.
void append_json_escaped(std::string_view id, std::string& out) {
  for (const char c : id) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
}

// RFC 4180: a field holding ',' or '"' is quoted, its quotes doubled.
void append_csv_field(std::string_view id, std::string& out) {
  if (id.find_first_of(",\"") == std::string_view::npos) {
    out += id;
    return;
  }
  out += '"';
  for (const char c : id) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

}  // namespace

DeltaPayload::DeltaPayload(std::shared_ptr<const IndexView> view, const identity::DefinedIdType* type,
                           PayloadFormat format, PushSets sets, std::size_t lines_per_chunk)
    : view_(std::move(view)),
      type_(type),
      format_(format),
      sets_(std::move(sets)),
      lines_per_chunk_(lines_per_chunk == 0 ? 1 : lines_per_chunk),
      it_(std::make_unique<roaring_uint32_iterator_t>()) {
  remove_lines_ = sets_.gone.size() + count(sets_.removes);
  add_lines_ = count(sets_.adds);
  restart();
}

DeltaPayload::~DeltaPayload() = default;

void user_ids(const IndexView& view, const identity::DefinedIdType* type, Ordinal o, std::vector<std::string>& out) {
  out.clear();
  if (type == nullptr) {
    if (view.uidless().bits.contains(o)) return;
    char buf[24];
    const auto end = std::to_chars(buf, buf + sizeof buf, view.external(o)).ptr;
    out.emplace_back(buf, end);
    return;
  }
  if (type->space == nullptr) return;
  type->space->for_each_key(o, [&](std::string_view key) {
    std::string text;
    identity::append_id_text(type->type, key, text);
    out.push_back(std::move(text));
  });
}

uint64_t DeltaPayload::count(const Bitmap& users) {
  uint64_t lines = 0;
  roaring_uint32_iterator_t it;
  roaring_init_iterator(users.get(), &it);
  std::vector<uint32_t> batch(4096);
  while (const uint32_t n = roaring_read_uint32_iterator(&it, batch.data(), static_cast<uint32_t>(batch.size()))) {
    for (uint32_t i = 0; i < n; ++i) {
      user_ids(*view_, type_, batch[i], ids_);
      if (ids_.empty()) ++unreachable_;
      lines += ids_.size();
    }
  }
  return lines;
}

void DeltaPayload::line(bool add, std::string_view id, std::string& out) const {
  if (format_ == PayloadFormat::kCsv) {
    out += add ? "add," : "remove,";
    append_csv_field(id, out);
    out += '\n';
    return;
  }
  out += add ? R"({"op":"add","id":")" : R"({"op":"remove","id":")";
  append_json_escaped(id, out);
  out += "\"}\n";
}

void DeltaPayload::restart() {
  written_adds_ = 0;
  written_removes_ = 0;
  phase_ = Phase::kHeader;
  gone_at_ = 0;
  roaring_init_iterator(sets_.removes.get(), it_.get());
}

bool DeltaPayload::next(std::string& out) {
  out.clear();
  std::size_t lines = 0;
  while (lines < lines_per_chunk_ && phase_ != Phase::kDone) {
    switch (phase_) {
      case Phase::kHeader:
        if (format_ == PayloadFormat::kCsv) out += "op,id\n";
        phase_ = Phase::kGone;
        break;
      case Phase::kGone:
        if (gone_at_ < sets_.gone.size()) {
          line(false, sets_.gone[gone_at_++], out);
          ++lines;
          ++written_removes_;
        } else {
          phase_ = Phase::kRemoves;
        }
        break;
      case Phase::kRemoves:
      case Phase::kAdds: {
        if (!it_->has_value) {
          if (phase_ == Phase::kRemoves) {
            phase_ = Phase::kAdds;
            roaring_init_iterator(sets_.adds.get(), it_.get());
          } else {
            phase_ = Phase::kDone;
          }
          break;
        }
        user_ids(*view_, type_, it_->current_value, ids_);
        roaring_advance_uint32_iterator(it_.get());
        for (const auto& id : ids_) line(phase_ == Phase::kAdds, id, out);
        lines += ids_.size();
        (phase_ == Phase::kAdds ? written_adds_ : written_removes_) += ids_.size();
        break;
      }
      case Phase::kDone:
        break;
    }
  }
  return !out.empty();
}

}  // namespace crowd::activation
