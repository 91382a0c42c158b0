#include "NotificationsDialog.h"

#include "PlainText.h"
#include "EngineMessages.h"
#include "EventCatalog.h"

#include <QCoreApplication>

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QSpinBox>
#include <QLineEdit>
#include <QListWidget>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QPushButton>
#include <QTableWidget>
#include <QTimer>
#include <QVBoxLayout>

using namespace Qt::StringLiterals;

namespace eventdesk {

namespace {

// Items as (value, what a person reads); the value is what a rule keeps.
QListWidget *checkList(const QList<std::pair<QString, QString>> &items, const QStringList &checked, QWidget *parent)
{
    auto *list = new QListWidget(parent);
    for (const auto &[value, label] : items) {
        auto *i = new QListWidgetItem(label, list);
        i->setData(Qt::UserRole, value);
        i->setFlags(Qt::ItemIsEnabled | Qt::ItemIsUserCheckable);
        i->setCheckState(checked.contains(value) ? Qt::Checked : Qt::Unchecked);
    }
    list->setMaximumHeight(140);
    return list;
}

QList<std::pair<QString, QString>> plainItems(const QStringList &values)
{
    QList<std::pair<QString, QString>> items;
    for (const QString &v : values)
        items.append({v, v});
    return items;
}

QStringList checkedIn(const QListWidget *list)
{
    QStringList out;
    for (int i = 0; i < list->count(); ++i)
        if (list->item(i)->checkState() == Qt::Checked)
            out.append(list->item(i)->data(Qt::UserRole).toString());
    return out;
}

// The 11 AppEvents, then every message of today's engine that `eventdesk
// record` keeps (those that mean an AppEvent are matched by its name
// already), by area; a tag a rule names that this EventDesk does not know
// (a newer engine's) stays listed, ticked.
QList<std::pair<QString, QString>> typeItems(const QStringList &ruleTypes)
{
    QList<std::pair<QString, QString>> items;
    QStringList listed;
    for (const VariantSpec &v : catalog::variants()) {
        items.append({v.name, v.name});
        listed.append(v.name);
    }
    for (const QString &tag : engine::knownTags()) {
        if (listed.contains(tag))
            continue;
        const auto area = engine::areaOf(tag);
        items.append({tag, area ? QCoreApplication::translate("eventdesk::WebhookRuleDialog", "%1 (engine: %2)")
                                      .arg(tag, engine::areaName(*area))
                                : tag});
        listed.append(tag);
    }
    for (const QString &t : ruleTypes)
        if (!listed.contains(t))
            items.append({t, t});
    return items;
}

QTableWidget *table(const QStringList &headers, QWidget *parent)
{
    auto *t = new QTableWidget(0, int(headers.size()), parent);
    t->setHorizontalHeaderLabels(headers);
    t->verticalHeader()->hide();
    t->setSelectionBehavior(QAbstractItemView::SelectRows);
    t->setSelectionMode(QAbstractItemView::SingleSelection);
    t->setEditTriggers(QAbstractItemView::NoEditTriggers);
    t->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    t->horizontalHeader()->setStretchLastSection(true);
    return t;
}

} // namespace

WebhookRuleDialog::WebhookRuleDialog(const WebhookRule &rule, const QStringList &worlds, QWidget *parent)
    : QDialog(parent)
    , m_rule(rule)
    , m_url(new QLineEdit(rule.url, this))
    , m_format(new QComboBox(this))
    , m_template(new QLineEdit(rule.messageTemplate, this))
    , m_enabled(new QCheckBox(tr("Send"), this))
    , m_timeout(new QSpinBox(this))
    , m_problem(plain::label(new QLabel(this)))
{
    setWindowTitle(rule.id ? tr("Edit webhook") : tr("New webhook"));
    m_url->setPlaceholderText(u"https://discord.com/api/webhooks/…"_s);
    m_format->addItem(tr("Generic JSON"), u"json"_s);
    m_format->addItem(tr("Discord"), u"discord"_s);
    m_format->addItem(tr("Slack"), u"slack"_s);
    m_format->setCurrentIndex(std::max(0, m_format->findData(rule.format)));
    m_types = checkList(typeItems(rule.types), rule.types, this);
    m_types->setAccessibleName(tr("Types"));
    m_types->setToolTip(tr("EventDesk's 11 event types, then the messages of today's engine that a recording keeps"));
    QStringList allWorlds = worlds;
    for (const QString &w : rule.worlds)
        if (!allWorlds.contains(w))
            allWorlds.append(w);
    m_worlds = checkList(plainItems(allWorlds), rule.worlds, this);
    m_worlds->setAccessibleName(tr("Worlds"));
    m_template->setPlaceholderText(tr("{character} {succeeded|failed} at {challenge} ({roll} → {total})"));
    m_template->setToolTip(tr("Fills {character} {challenge} {roll} {total} {modifier} {succeeded|failed} {world} "
                              "{type} {summary} {event_name} {outcome} {id}. Empty: a sentence for each type."));
    m_enabled->setChecked(rule.enabled);
    // A receiver that never answers holds only its own rule's deliveries, for this long each.
    m_timeout->setRange(webhook::MinTimeoutMs / 1000, webhook::MaxTimeoutMs / 1000);
    m_timeout->setSuffix(tr(" s"));
    m_timeout->setValue(rule.timeoutMs / 1000);
    m_timeout->setAccessibleName(tr("Wait for an answer"));
    m_problem->setStyleSheet(u"color: palette(highlight)"_s);
    m_problem->setWordWrap(true);

    auto *form = new QFormLayout;
    form->addRow(tr("URL"), m_url);
    form->addRow(tr("Body"), m_format);
    form->addRow(tr("Types (none ticked: all)"), m_types);
    form->addRow(tr("Worlds (none ticked: all)"), m_worlds);
    form->addRow(tr("Message"), m_template);
    form->addRow(tr("Wait for an answer"), m_timeout);
    form->addRow(QString(), m_enabled);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Save | QDialogButtonBox::Cancel, this);
    connect(buttons, &QDialogButtonBox::accepted, this, &WebhookRuleDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(m_problem);
    layout->addWidget(buttons);
    resize(520, sizeHint().height());
}

WebhookRule WebhookRuleDialog::rule() const
{
    WebhookRule r = m_rule;
    r.url = m_url->text().trimmed();
    r.format = m_format->currentData().toString();
    r.types = checkedIn(m_types);
    r.worlds = checkedIn(m_worlds);
    r.messageTemplate = m_template->text();
    r.enabled = m_enabled->isChecked();
    r.timeoutMs = m_timeout->value() * 1000;
    return r;
}

void WebhookRuleDialog::accept()
{
    // Said here, before anything is saved.
    if (auto why = webhook::checkUrl(m_url->text().trimmed())) {
        m_problem->setText(*why);
        m_url->setFocus();
        return;
    }
    QDialog::accept();
}

NotificationsDialog::NotificationsDialog(WebhookDispatcher &dispatcher, const QStringList &worlds, QWidget *parent)
    : QDialog(parent)
    , m_book(dispatcher.book())
    , m_dispatcher(dispatcher)
    , m_worlds(worlds)
    , m_rules(table({tr("On"), tr("Body"), tr("URL"), tr("Types"), tr("Worlds"), tr("Message")}, this))
    , m_deliveries(table({tr("When"), tr("Event"), tr("State"), tr("URL"), tr("Tries"), tr("Answer")}, this))
    , m_status(plain::label(new QLabel(this)))
{
    setWindowTitle(tr("Notifications"));
    auto *intro = new QLabel(tr("Chosen events are posted to a URL: your group's Discord or Slack channel, or any "
                                "service. Deliveries are kept until they succeed, and retried while EventDesk runs."),
                             this);
    intro->setWordWrap(true);
    auto *buttons = new QHBoxLayout;
    const auto button = [this, buttons](const QString &text, void (NotificationsDialog::*slot)()) {
        auto *b = new QPushButton(text, this);
        connect(b, &QPushButton::clicked, this, slot);
        buttons->addWidget(b);
        return b;
    };
    button(tr("Add…"), &NotificationsDialog::addRule);
    button(tr("Edit…"), &NotificationsDialog::editSelected);
    button(tr("Remove"), &NotificationsDialog::removeSelected);
    button(tr("Send test"), &NotificationsDialog::sendTest);
    buttons->addStretch();
    auto *close = new QDialogButtonBox(QDialogButtonBox::Close, this);
    connect(close, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(m_rules, &QTableWidget::cellDoubleClicked, this, &NotificationsDialog::editSelected);

    auto *layout = new QVBoxLayout(this);
    layout->addWidget(intro);
    layout->addWidget(m_rules, 1);
    layout->addLayout(buttons);
    layout->addWidget(new QLabel(tr("Latest deliveries"), this));
    layout->addWidget(m_deliveries, 1);
    layout->addWidget(m_status);
    layout->addWidget(close);
    resize(760, 520);

    connect(&m_dispatcher, &WebhookDispatcher::deliveriesChanged, this, &NotificationsDialog::reloadDeliveries);
    auto *tick = new QTimer(this);  // deliveries made by another EventDesk (serve) too
    connect(tick, &QTimer::timeout, this, &NotificationsDialog::reloadDeliveries);
    tick->start(2000);
    reload();
}

void NotificationsDialog::reload()
{
    m_book.rules().then(this, [this](const Result<QList<WebhookRule>> &r) {
        if (!r) {
            m_status->setText(r.error().message);
            return;
        }
        m_list = r.value();
        m_rules->setRowCount(int(m_list.size()));
        for (int i = 0; i < m_list.size(); ++i) {
            const WebhookRule &rule = m_list.at(i);
            const QStringList cells = {rule.enabled ? tr("yes") : tr("no"), rule.format, webhook::redact(rule.url),
                                       rule.types.isEmpty() ? tr("all") : rule.types.join(u", "_s),
                                       rule.worlds.isEmpty() ? tr("all") : rule.worlds.join(u", "_s),
                                       rule.messageTemplate.isEmpty() ? tr("(a sentence for each type)") : rule.messageTemplate};
            for (int c = 0; c < cells.size(); ++c)
                m_rules->setItem(i, c, new QTableWidgetItem(cells.at(c)));
        }
        if (m_rules->currentRow() < 0 && !m_list.isEmpty())
            m_rules->selectRow(0);
    });
    reloadDeliveries();
}

void NotificationsDialog::reloadDeliveries()
{
    m_book.recentDeliveries(50).then(this, [this](const Result<QList<WebhookDelivery>> &r) {
        if (!r)
            return;
        m_deliveries->setRowCount(int(r->size()));
        for (int i = 0; i < r->size(); ++i) {
            const WebhookDelivery &d = r->at(i);
            const QString answer = d.lastError.isEmpty() ? (d.lastStatus ? u"HTTP %1"_s.arg(d.lastStatus) : QString())
                                                         : d.lastError;
            const QStringList cells = {d.updatedAt, QString::number(d.eventId), d.state, d.url,
                                       QString::number(d.attempts), answer};
            for (int c = 0; c < cells.size(); ++c)
                m_deliveries->setItem(i, c, new QTableWidgetItem(cells.at(c)));
        }
    });
}

void NotificationsDialog::changed()
{
    m_dispatcher.reloadRules();
    reload();
}

void NotificationsDialog::addRule()
{
    auto *form = new WebhookRuleDialog(WebhookRule{}, m_worlds, this);
    form->setAttribute(Qt::WA_DeleteOnClose);
    connect(form, &QDialog::accepted, this, [this, form] {
        m_book.addRule(form->rule()).then(this, [this](const Result<qint64> &r) {
            m_status->setText(r ? tr("Webhook added.") : r.error().message);
            changed();
        });
    });
    form->open();
}

void NotificationsDialog::editSelected()
{
    const int row = m_rules->currentRow();
    if (row < 0 || row >= m_list.size())
        return;
    auto *form = new WebhookRuleDialog(m_list.at(row), m_worlds, this);
    form->setAttribute(Qt::WA_DeleteOnClose);
    connect(form, &QDialog::accepted, this, [this, form] {
        m_book.updateRule(form->rule()).then(this, [this](const Result<bool> &r) {
            m_status->setText(r ? tr("Webhook saved.") : r.error().message);
            changed();
        });
    });
    form->open();
}

void NotificationsDialog::removeSelected()
{
    const int row = m_rules->currentRow();
    if (row < 0 || row >= m_list.size())
        return;
    const WebhookRule rule = m_list.at(row);
    if (!plain::confirmAct(this, tr("Remove webhook"),
                    tr("Stop posting to %1? Deliveries still waiting for it are dropped.").arg(webhook::redact(rule.url)),
                    tr("Remove")))
        return;
    m_book.removeRule(rule.id).then(this, [this](const Result<bool> &r) {
        m_status->setText(r ? tr("Webhook removed.") : r.error().message);
        changed();
    });
}

void NotificationsDialog::sendTest()
{
    const int row = m_rules->currentRow();
    if (row < 0 || row >= m_list.size()) {
        m_status->setText(tr("Select a webhook to test."));
        return;
    }
    const WebhookRule rule = m_list.at(row);
    auto *net = new QNetworkAccessManager(this);
    QNetworkRequest request{QUrl(rule.url)};
    request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
    request.setTransferTimeout(10000);
    QNetworkReply *reply = net->post(request, webhook::body(rule, webhook::sample(), {}));
    m_status->setText(tr("Sending a sample to %1…").arg(webhook::redact(rule.url)));
    connect(reply, &QNetworkReply::finished, this, [this, net, reply, url = rule.url] {
        const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        m_status->setText(status >= 200 && status < 300 ? tr("%1 accepted the sample (HTTP %2).").arg(webhook::redact(url)).arg(status)
                          : status ? tr("%1 answered HTTP %2.").arg(webhook::redact(url)).arg(status)
                                   : tr("%1 did not answer.").arg(webhook::redact(url)));
        net->deleteLater();
    });
}

} // namespace eventdesk
