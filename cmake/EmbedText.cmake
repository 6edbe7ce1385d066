# Writes OUTPUT, a C++ source defining `std::string_view NAME()` that returns
# the bytes of INPUT (a text file without the raw-string delimiter in it).
# Run at build time (cmake -P) so that editing INPUT rebuilds the server.
file(READ "${INPUT}" text)
string(FIND "${text}" ")crowd_embed\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${INPUT} holds the raw-string delimiter )crowd_embed\"")
endif()
file(WRITE "${OUTPUT}.tmp"
  "// Generated from ${INPUT} by cmake/EmbedText.cmake; do not edit.\n"
  "#include <string_view>\n"
  "namespace crowd::server {\n"
  "std::string_view ${NAME}() {\n"
  "  static constexpr char kText[] = R\"crowd_embed(${text})crowd_embed\";\n"
  "  return {kText, sizeof kText - 1};\n"
  "}\n"
  "}  // namespace crowd::server\n")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
