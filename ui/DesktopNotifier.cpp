#include "DesktopNotifier.h"

#include <QSystemTrayIcon>

namespace eventdesk {

namespace {

class TrayNotifier final : public QSystemTrayIcon, public DesktopNotifier
{
public:
    TrayNotifier(const QIcon &icon, QObject *parent)
        : QSystemTrayIcon(icon, parent)
    {
        setToolTip(tr("EventDesk"));
        show();
    }
    void notify(const QString &title, const QString &text) override { showMessage(title, text, QSystemTrayIcon::Warning, 8000); }
};

} // namespace

DesktopNotifier *makeTrayNotifier(const QIcon &icon, QObject *parent)
{
    if (!QSystemTrayIcon::isSystemTrayAvailable())
        return nullptr;
    return new TrayNotifier(icon, parent);
}

} // namespace eventdesk
