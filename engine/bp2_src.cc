// The single translation unit that compiles Boost.Process v2 (header-only mode does not link when
// an environment is passed in 1.81). The two includes before it work around headers that forget
// them under BOOST_PROCESS_USE_STD_FS, so their order is kept.
// clang-format off
#include <boost/optional.hpp>
#include <boost/type_traits/remove_pointer.hpp>
#include <boost/process/v2/src.hpp>
// clang-format on
