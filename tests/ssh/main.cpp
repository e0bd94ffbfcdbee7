// Runner for the ssh backend tests (integration: they need sshd).
#include "caf/test/unit_test_impl.hpp"
