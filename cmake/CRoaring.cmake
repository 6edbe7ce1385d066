# CRoaring, built for the CPU it runs on.
#
# Debian's binary libroaring (0.2.66) is compiled for generic x86-64: no
# POPCNT, no AVX2. The same source compiled -O3 -march=native is 5-15x faster
# on the operations crowd lives on (and_cardinality of two 50% tags at 10M
# users: ~300 us vs ~35 us; see bench/roaring_build_bench.cc). So we compile
# Debian's own source: the orig tarball of the `croaring` source package,
# fetched with `apt-get source` (scripts/fetch-croaring.sh adds the deb-src
# entry it needs). Nothing of CRoaring is committed to this repository.
#
# Where the tarball cannot be had we fall back to the system library, loudly.
#
# Provides: target crowd::roaring, variable CROWD_ROARING_NATIVE (ON/OFF).

set(CROWD_CROARING_TARBALL "" CACHE FILEPATH "Path to croaring_*.orig.tar.xz (found automatically when empty)")

function(crowd_find_croaring_tarball out)
  set(result "")
  if(CROWD_CROARING_TARBALL AND EXISTS "${CROWD_CROARING_TARBALL}")
    set(result "${CROWD_CROARING_TARBALL}")
  else()
    foreach(dir "${CMAKE_SOURCE_DIR}/.deps" "${CMAKE_BINARY_DIR}/_croaring")
      file(GLOB found "${dir}/croaring_*.orig.tar.*")
      if(found)
        list(GET found 0 result)
        break()
      endif()
    endforeach()
  endif()
  set(${out} "${result}" PARENT_SCOPE)
endfunction()

set(CROWD_ROARING_NATIVE OFF)
if(CROWD_NATIVE_ROARING)
  crowd_find_croaring_tarball(tarball)
  if(NOT tarball)
    # Try to download it ourselves; works when a deb-src entry exists.
    file(MAKE_DIRECTORY "${CMAKE_BINARY_DIR}/_croaring")
    execute_process(COMMAND apt-get source --download-only croaring
                    WORKING_DIRECTORY "${CMAKE_BINARY_DIR}/_croaring"
                    RESULT_VARIABLE apt_result OUTPUT_QUIET ERROR_QUIET)
    # The orig tarball may arrive even when apt reports a failure for the
    # Debian packaging tarball, so look rather than trust the exit code.
    crowd_find_croaring_tarball(tarball)
  endif()
  if(tarball)
    set(src_root "${CMAKE_BINARY_DIR}/_croaring/src")
    if(NOT EXISTS "${src_root}/.extracted")
      file(REMOVE_RECURSE "${src_root}")
      file(ARCHIVE_EXTRACT INPUT "${tarball}" DESTINATION "${src_root}")
      file(TOUCH "${src_root}/.extracted")
    endif()
    file(GLOB croaring_dir LIST_DIRECTORIES true "${src_root}/CRoaring-*")
    if(croaring_dir AND EXISTS "${croaring_dir}/src/roaring.c")
      file(GLOB_RECURSE croaring_sources "${croaring_dir}/src/*.c")
      add_library(crowd_roaring STATIC ${croaring_sources})
      target_include_directories(crowd_roaring SYSTEM PUBLIC "${croaring_dir}/include" "${croaring_dir}/cpp")
      set_target_properties(crowd_roaring PROPERTIES C_STANDARD 11 POSITION_INDEPENDENT_CODE ON)
      target_compile_options(crowd_roaring PRIVATE -O3 ${CROWD_ARCH_FLAGS} -w)
      target_compile_definitions(crowd_roaring PUBLIC CROWD_ROARING_NATIVE=1)
      set(CROWD_ROARING_NATIVE ON)
      message(STATUS "CRoaring: built from ${tarball} with -O3 ${CROWD_ARCH_FLAGS}")
    endif()
  endif()
endif()

if(NOT CROWD_ROARING_NATIVE)
  find_library(SYSTEM_ROARING roaring REQUIRED)
  add_library(crowd_roaring INTERFACE)
  target_link_libraries(crowd_roaring INTERFACE ${SYSTEM_ROARING})
  target_compile_definitions(crowd_roaring INTERFACE CROWD_ROARING_NATIVE=0)
  message(WARNING
    "\n*****************************************************************\n"
    " CRoaring: falling back to the system libroaring (${SYSTEM_ROARING}).\n"
    " Debian builds it for generic x86-64 (no POPCNT, no AVX2): bitmap\n"
    " operations will be 5-15x slower. Run scripts/fetch-croaring.sh\n"
    " (adds a deb-src entry, fetches Debian's croaring source) and\n"
    " re-run cmake to build it natively.\n"
    "*****************************************************************")
endif()

# The system library, always, for the native-vs-Debian benchmark.
find_library(CROWD_SYSTEM_ROARING_LIB roaring)

add_library(crowd::roaring ALIAS crowd_roaring)
