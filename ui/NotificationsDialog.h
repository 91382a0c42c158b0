// Settings → Notifications: the DM's webhooks (bus/Webhooks.h). The rules —
// which types and worlds go to which URL, in which body (JSON, Discord, Slack)
// and words — with Add, Edit, Remove and Send test; and the latest
// deliveries with their state, refreshed as they happen. URLs are shown
// redacted: a Discord webhook's path is its secret.
#pragma once

#include "Webhooks.h"

#include <QDialog>

class QCheckBox;
class QSpinBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QTableWidget;

namespace eventdesk {

// One rule's form.
class WebhookRuleDialog final : public QDialog
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(WebhookRuleDialog)
public:
    WebhookRuleDialog(const WebhookRule &rule, const QStringList &worlds, QWidget *parent = nullptr);
    WebhookRule rule() const;
    QLineEdit *urlEdit() const { return m_url; }
    QComboBox *formatBox() const { return m_format; }
    QListWidget *typeList() const { return m_types; }
    QLineEdit *templateEdit() const { return m_template; }

    void accept() override;

private:
    WebhookRule m_rule;
    QLineEdit *m_url;
    QComboBox *m_format;
    QListWidget *m_types;
    QListWidget *m_worlds;
    QLineEdit *m_template;
    QCheckBox *m_enabled;
    QSpinBox *m_timeout;
    QLabel *m_problem;
};

class NotificationsDialog final : public QDialog
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(NotificationsDialog)
public:
    // dispatcher: its rules are edited here, and it is told when they change.
    NotificationsDialog(WebhookDispatcher &dispatcher, const QStringList &worlds, QWidget *parent = nullptr);

    QTableWidget *rulesTable() const { return m_rules; }
    QTableWidget *deliveriesTable() const { return m_deliveries; }
    QLabel *statusLabel() const { return m_status; }
    void addRule();
    void editSelected();
    void removeSelected();
    void sendTest();

private:
    void reload();
    void reloadDeliveries();
    void changed();

    WebhookBook m_book;
    WebhookDispatcher &m_dispatcher;
    QStringList m_worlds;
    QList<WebhookRule> m_list;
    QTableWidget *m_rules;
    QTableWidget *m_deliveries;
    QLabel *m_status;
};

} // namespace eventdesk
