#include "UiLog.h"

Q_LOGGING_CATEGORY(lcUi, "eventdesk.ui", QtInfoMsg)
