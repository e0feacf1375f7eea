// placeholder: written by the steps helper
#pragma once
