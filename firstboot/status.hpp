// placeholder: written by the status helper
#pragma once
