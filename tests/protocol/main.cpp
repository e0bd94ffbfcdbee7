// The one TU of the runner that provides main.
#define CAF_SUITE protocol
#include "caf/test/unit_test.hpp"
#include "caf/test/unit_test_impl.hpp"
