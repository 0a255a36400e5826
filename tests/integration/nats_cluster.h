// Placeholder: filled in by the work on issue 9.
#pragma once
