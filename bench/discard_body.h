// DiscardBody: a Beast body type that reads a response body and keeps only
// its length. The load tool needs the status and the timing, not the bytes;
// storing bodies in a string_body would cost an allocation and a copy per
// response (and a body limit) on the client's hot path for nothing.
#pragma once

#include <boost/asio/buffer.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/optional.hpp>

#include <cstdint>

namespace crowd::bench {

struct DiscardBody {
  using value_type = std::uint64_t;  // body bytes received

  class reader {
   public:
    template <bool isRequest, class Fields>
    reader(boost::beast::http::header<isRequest, Fields>&, value_type& bytes) : bytes_(bytes) {}

    void init(const boost::optional<std::uint64_t>&, boost::beast::error_code& ec) {
      bytes_ = 0;
      ec = {};
    }

    template <class ConstBufferSequence>
    std::size_t put(const ConstBufferSequence& buffers, boost::beast::error_code& ec) {
      const auto n = boost::asio::buffer_size(buffers);
      bytes_ += n;
      ec = {};
      return n;
    }

    void finish(boost::beast::error_code& ec) { ec = {}; }

   private:
    value_type& bytes_;
  };
};

}  // namespace crowd::bench
