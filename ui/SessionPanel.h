// Hosting the session: start and stop, the address players use (loopback or a
// LAN address), the join code (copy, regenerate), the DM token (reveal, copy),
// the connected clients with kick and "view as", and how many connections were
// refused (the tooltip lists the latest, with address and reason). While
// hosting, the player page's join link for a world: copy it, open it, or let
// players scan its QR code; the table screen's link beside it.
#pragma once

#include <QWidget>

class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSpinBox;
class QTableWidget;

namespace eventdesk {

class SessionServer;
struct ClientInfo;

class SessionPanel final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SessionPanel)
public:
    SessionPanel(SessionServer &server, QWidget *parent = nullptr);

    bool startHosting();
    // Both ask first while players are connected; false: the DM said no.
    bool stopHosting();
    QTableWidget *clientTable() const { return m_clients; }
    QLabel *refusedLabel() const { return m_refused; }
    QLabel *throttledLabel() const { return m_throttled; }
    bool kickSelected();
    // The worlds a join link can be for: (id, display name), in order.
    void setWorlds(const QList<std::pair<QString, QString>> &worlds);
    QString joinLink() const;
    QLabel *qrLabel() const { return m_qr; }

Q_SIGNALS:
    void hostingChanged(bool hosting);
    void viewAs(const QString &name, const QString &role, const QString &worldId);
    void message(const QString &text);

private:
    void refresh();
    void refreshLink();

    SessionServer &m_server;
    QComboBox *m_address;
    QSpinBox *m_port;
    QPushButton *m_start;
    QLabel *m_url;
    QLineEdit *m_code;
    QLineEdit *m_token;
    QTableWidget *m_clients;
    QLabel *m_refused;
    QLabel *m_throttled;
    QPushButton *m_kick;
    QPushButton *m_viewAs;
    QWidget *m_pageBox;
    QComboBox *m_linkWorld;
    QLineEdit *m_link;
    QLabel *m_linkNote;
    QLabel *m_qr;
    QString m_qrFor;
};

} // namespace eventdesk
