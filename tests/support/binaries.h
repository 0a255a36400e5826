#pragma once

// Paths of the programs under test, set by tests/support/CMakeLists.txt.
#ifndef ASSAS_AGENT_BIN
#error "ASSAS_AGENT_BIN is defined by the test support library"
#endif
