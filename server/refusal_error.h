// An activation refusal (activation/activation.h) as the API reports it.
#pragma once

#include "activation/activation.h"
#include "server/api_error.h"

namespace crowd::server {

[[nodiscard]] ApiError refusal_error(const activation::Refusal& r);

}  // namespace crowd::server
