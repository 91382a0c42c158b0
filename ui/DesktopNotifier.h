// Where the DM's desktop notifications go: the system tray's balloon in the
// window, something else in a test (offscreen has no tray).
#pragma once

#include <QString>

class QObject;
class QIcon;

namespace eventdesk {

class DesktopNotifier
{
public:
    virtual ~DesktopNotifier() = default;
    virtual void notify(const QString &title, const QString &text) = 0;
};

// The system tray's icon and its messages; nullptr where the desktop has no
// tray (then nothing is shown, and nothing fails).
DesktopNotifier *makeTrayNotifier(const QIcon &icon, QObject *parent);

} // namespace eventdesk
