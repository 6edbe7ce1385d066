// A push's payload from bitmaps of users: the lines push_payload.h
// describes, written in a destination's ID type from one IndexView.
//
// removes: IDs of erased users (text already in the type, kept since the
// erasure: "gone"), then every ID of each user of `removes`; adds: every ID
// of each user of `adds`. Users without an ID of the type write nothing
// (counted). The constructor counts the lines (one pass over both sets, one
// ID-list walk a user), so PushInfo can carry them before the first byte.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "activation/push_payload.h"
#include "identity/id_types.h"
#include "index/bitmap.h"
#include "index/index_view.h"

namespace crowd::activation {

// Replaces `out` with every ID of type `type` (null: the uid) of user `o`
// in `view`, as text: none for a user without one.
void user_ids(const IndexView& view, const identity::DefinedIdType* type, Ordinal o, std::vector<std::string>& out);

struct PushSets {
  Bitmap removes;  // users (hold-out already taken out)
  Bitmap adds;
  std::vector<std::string> gone;  // ID text, sent as removes first
};

class DeltaPayload final : public PayloadSource {
 public:
  static constexpr std::size_t kLinesPerChunk = 50'000;

  // `type` null: the built-in uid. The view and type must outlive this.
  DeltaPayload(std::shared_ptr<const IndexView> view, const identity::DefinedIdType* type, PayloadFormat format,
               PushSets sets, std::size_t lines_per_chunk = kLinesPerChunk);
  ~DeltaPayload() override;

  bool next(std::string& out) override;
  void restart() override;

  [[nodiscard]] uint64_t add_lines() const { return add_lines_; }
  [[nodiscard]] uint64_t remove_lines() const { return remove_lines_; }
  // Whether the last pass wrote exactly the lines counted: not when a user
  // was erased (its IDs unlinked) between the count and the pass.
  [[nodiscard]] bool wrote_what_it_counted() const {
    return written_adds_ == add_lines_ && written_removes_ == remove_lines_;
  }
  // Users of the sets with no ID of the type.
  [[nodiscard]] uint64_t unreachable() const { return unreachable_; }

 private:
  enum class Phase : uint8_t { kHeader, kGone, kRemoves, kAdds, kDone };
  void line(bool add, std::string_view id, std::string& out) const;
  // Counts lines of the users of `users`.
  uint64_t count(const Bitmap& users);

  std::shared_ptr<const IndexView> view_;
  const identity::DefinedIdType* type_;
  PayloadFormat format_;
  PushSets sets_;
  std::size_t lines_per_chunk_;
  uint64_t add_lines_ = 0;
  uint64_t remove_lines_ = 0;
  uint64_t unreachable_ = 0;

  uint64_t written_adds_ = 0;
  uint64_t written_removes_ = 0;
  Phase phase_ = Phase::kHeader;
  std::size_t gone_at_ = 0;
  std::unique_ptr<roaring_uint32_iterator_t> it_;
  std::vector<std::string> ids_;
};

}  // namespace crowd::activation
