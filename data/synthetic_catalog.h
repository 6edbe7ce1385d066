// The demo's tag library (issue 17): what `crowdd --demo` declares about the
// synthetic population's fields -- Chinese labels, which fields hold one
// value a user (gender, age band, city, tier, power, depth), Chinese names
// of the cities and of the head categories, and a small category tree (a
// head category's parent is its vertical's 兴趣 tag).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "catalog/field_meta.h"
#include "data/synthetic_population.h"

namespace crowd::synth {

// (field, metadata), for WriteBatch::set_field_meta and set_exclusive_field.
[[nodiscard]] std::vector<std::pair<std::string, catalog::FieldMeta>> demo_catalog(const Population& population);

}  // namespace crowd::synth
