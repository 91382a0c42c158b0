#include "SessionPanel.h"

#include "PlainText.h"
#include "QrCode.h"
#include "SessionServer.h"

#include <QApplication>
#include <QClipboard>
#include <QComboBox>
#include <QDesktopServices>
#include <QGroupBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QNetworkInterface>
#include <QPushButton>
#include <QSpinBox>
#include <QTableWidget>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>

using namespace Qt::StringLiterals;

namespace eventdesk {

SessionPanel::SessionPanel(SessionServer &server, QWidget *parent)
    : QWidget(parent)
    , m_server(server)
    , m_address(new QComboBox(this))
    , m_port(new QSpinBox(this))
    , m_start(new QPushButton(tr("Start hosting"), this))
    , m_url(new QLabel(this))
    , m_code(new QLineEdit(this))
    , m_token(new QLineEdit(this))
    , m_clients(new QTableWidget(0, 7, this))
    , m_refused(plain::label(new QLabel(this)))
    , m_throttled(plain::label(new QLabel(this)))
    , m_kick(new QPushButton(tr("Kick"), this))
    , m_viewAs(new QPushButton(tr("View as"), this))
    , m_pageBox(new QGroupBox(tr("Player page"), this))
    , m_linkWorld(new QComboBox(m_pageBox))
    , m_link(new QLineEdit(m_pageBox))
    , m_linkNote(new QLabel(m_pageBox))
    , m_qr(new QLabel(m_pageBox))
{
    m_address->addItem(tr("This computer only (127.0.0.1)"), u"127.0.0.1"_s);
    for (const QNetworkInterface &iface : QNetworkInterface::allInterfaces()) {
        if (!(iface.flags() & QNetworkInterface::IsUp) || (iface.flags() & QNetworkInterface::IsLoopBack))
            continue;
        for (const QNetworkAddressEntry &entry : iface.addressEntries())
            if (entry.ip().protocol() == QAbstractSocket::IPv4Protocol)
                m_address->addItem(tr("Local network: %1 (%2)").arg(entry.ip().toString(), iface.humanReadableName()),
                                   entry.ip().toString());
    }
    m_port->setRange(1024, 65535);
    m_port->setValue(7878);
    m_url->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_url->setWordWrap(true);
    m_code->setReadOnly(true);
    m_code->setAccessibleName(tr("Join code of the world below"));
    m_token->setReadOnly(true);
    m_token->setEchoMode(QLineEdit::Password);
    m_token->setText(server.dmToken());

    auto *layout = new QVBoxLayout(this);
    auto *form = new QFormLayout;
    form->addRow(tr("Address"), m_address);
    form->addRow(tr("Port"), m_port);
    layout->addLayout(form);
    layout->addWidget(m_start);
    layout->addWidget(m_url);

    const auto tool = [this](const QString &text, auto slot) {
        auto *b = new QToolButton(this);
        b->setText(text);
        connect(b, &QToolButton::clicked, this, slot);
        return b;
    };
    auto *codeRow = new QHBoxLayout;
    codeRow->addWidget(m_code, 1);
    codeRow->addWidget(tool(tr("Copy"), [this] { QApplication::clipboard()->setText(m_code->text()); }));
    codeRow->addWidget(tool(tr("New"), [this] {
        m_server.regenerateJoinCode();
        refreshLink();
        // Said without the code itself: the status bar's messages go to the log too.
        Q_EMIT message(tr("New join codes for every world: players joining from now on need the new link or code"));
    }));
    auto *tokenRow = new QHBoxLayout;
    tokenRow->addWidget(m_token, 1);
    tokenRow->addWidget(tool(tr("Reveal"), [this] {
        m_token->setEchoMode(m_token->echoMode() == QLineEdit::Password ? QLineEdit::Normal : QLineEdit::Password);
    }));
    tokenRow->addWidget(tool(tr("Copy"), [this] { QApplication::clipboard()->setText(m_token->text()); }));
    auto *secrets = new QFormLayout;
    secrets->addRow(tr("Join code"), codeRow);
    secrets->addRow(tr("DM token"), tokenRow);
    layout->addLayout(secrets);

    // The join link players open (or scan) for one world, while hosting.
    m_link->setReadOnly(true);
    m_link->setAccessibleName(tr("Join link"));
    m_linkWorld->setAccessibleName(tr("World of the join link"));
    m_linkWorld->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_linkWorld->setMinimumContentsLength(12);
    m_linkNote->setWordWrap(true);
    m_qr->setAlignment(Qt::AlignCenter);
    m_qr->setAccessibleName(tr("QR code of the join link"));
    auto *pageLayout = new QVBoxLayout(m_pageBox);
    auto *pageForm = new QFormLayout;
    pageForm->addRow(tr("World"), m_linkWorld);
    pageForm->addRow(tr("Link"), m_link);
    pageLayout->addLayout(pageForm);
    auto *linkButtons = new QHBoxLayout;
    linkButtons->addWidget(tool(tr("Copy link"), [this] {
        QApplication::clipboard()->setText(m_link->text());
        Q_EMIT message(tr("Join link copied: players open it in a browser"));
    }));
    linkButtons->addWidget(tool(tr("Open"), [this] { QDesktopServices::openUrl(QUrl(m_link->text())); }));
    linkButtons->addWidget(tool(tr("Copy table screen link"), [this] {
        QApplication::clipboard()->setText(m_server.joinLink(m_linkWorld->currentData().toString(), u"table"_s).toString(QUrl::FullyEncoded));
        Q_EMIT message(tr("Table screen link copied: open it on the TV at the table"));
    }));
    linkButtons->addStretch();
    pageLayout->addLayout(linkButtons);
    pageLayout->addWidget(m_qr);
    pageLayout->addWidget(m_linkNote);
    layout->addWidget(m_pageBox);
    connect(m_linkWorld, &QComboBox::currentIndexChanged, this, &SessionPanel::refreshLink);

    m_clients->setHorizontalHeaderLabels({tr("Name"), tr("Role"), tr("World"), tr("Address"), tr("Since"), tr("Sent"), tr("Queued")});
    m_clients->verticalHeader()->hide();
    m_clients->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_clients->setSelectionMode(QAbstractItemView::SingleSelection);
    m_clients->setEditTriggers(QAbstractItemView::NoEditTriggers);
    // Fits the dock without sideways scrolling: the name takes the room, the
    // rest fit their contents; address and queue are in each row's tooltip.
    m_clients->horizontalHeader()->setStretchLastSection(false);
    m_clients->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_clients->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
    m_clients->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    m_clients->setColumnHidden(3, true);
    m_clients->setColumnHidden(6, true);
    auto *connectedRow = new QHBoxLayout;
    connectedRow->addWidget(new QLabel(tr("Connected"), this));
    connectedRow->addStretch();
    connectedRow->addWidget(m_refused);
    layout->addLayout(connectedRow);
    layout->addWidget(m_clients, 1);
    m_throttled->setWordWrap(true);
    m_throttled->setStyleSheet(u"color: #b35c00"_s);
    m_throttled->setAccessibleName(tr("Addresses slowed down"));
    m_throttled->hide();
    layout->addWidget(m_throttled);
    auto *clientButtons = new QHBoxLayout;
    clientButtons->addWidget(m_viewAs);
    clientButtons->addWidget(m_kick);
    clientButtons->addStretch();
    layout->addLayout(clientButtons);

    connect(m_start, &QPushButton::clicked, this, [this] {
        if (m_server.isListening())
            stopHosting();
        else
            startHosting();
    });
    connect(m_kick, &QPushButton::clicked, this, &SessionPanel::kickSelected);
    connect(m_viewAs, &QPushButton::clicked, this, [this] {
        const int row = m_clients->currentRow();
        if (row < 0) {
            Q_EMIT message(tr("Select a connected client first"));
            return;
        }
        Q_EMIT viewAs(m_clients->item(row, 0)->text(), m_clients->item(row, 1)->text(), m_clients->item(row, 2)->text());
    });
    connect(&m_server, &SessionServer::clientsChanged, this, &SessionPanel::refresh);
    auto *tick = new QTimer(this);
    connect(tick, &QTimer::timeout, this, &SessionPanel::refresh);
    tick->start(1000);
    refresh();
}

bool SessionPanel::startHosting()
{
    m_server.setListenAddress(QHostAddress(m_address->currentData().toString()), quint16(m_port->value()));
    const Result<bool> r = m_server.listen();
    if (!r) {
        Q_EMIT message(r.error().message);
        refresh();
        return false;
    }
    Q_EMIT message(tr("Hosting on %1").arg(m_server.url().toString()));
    Q_EMIT hostingChanged(true);
    refresh();
    return true;
}

bool SessionPanel::stopHosting()
{
    if (const int n = m_server.clientCount(); n > 0
        && !plain::confirmAct(this, tr("Stop hosting"),
                       tr("%n player(s) connected will be disconnected, and the session ends.", nullptr, n),
                       tr("Stop hosting")))
        return false;
    m_server.close();
    Q_EMIT hostingChanged(false);
    refresh();
    return true;
}

bool SessionPanel::kickSelected()
{
    const int row = m_clients->currentRow();
    if (row < 0)
        return false;
    const QString id = m_clients->item(row, 0)->data(Qt::UserRole).toString();
    const QString who = tr("%1 (%2, %3)").arg(m_clients->item(row, 0)->text(), m_clients->item(row, 1)->text(),
                                              m_clients->item(row, 2)->text());
    if (!plain::confirmAct(this, tr("Kick"), tr("Remove %1 from the session? They can join again with the join code.").arg(who),
                    tr("Kick")))
        return false;
    const bool kicked = m_server.kick(id);
    if (kicked)
        Q_EMIT message(tr("%1 was removed from the session").arg(who));
    return kicked;
}

void SessionPanel::refresh()
{
    const bool hosting = m_server.isListening();
    m_start->setText(hosting ? tr("Stop hosting") : tr("Start hosting"));
    m_address->setEnabled(!hosting);
    m_port->setEnabled(!hosting);
    if (hosting && m_server.port() != m_port->value() && m_server.port() >= m_port->minimum())
        m_port->setValue(m_server.port());
    m_url->setText(hosting ? tr("Hosting at <b>%1</b>: players open their world's join link below, or connect their own "
                                "client with its join code.").arg(plain::html(m_server.url().toString()))
                           : tr("Not hosting."));
    const QList<ClientInfo> clients = m_server.clients();
    const QString selected = m_clients->currentRow() >= 0 ? m_clients->item(m_clients->currentRow(), 0)->data(Qt::UserRole).toString()
                                                          : QString();
    m_clients->setRowCount(int(clients.size()));
    for (int i = 0; i < clients.size(); ++i) {
        const ClientInfo &c = clients.at(i);
        const QStringList cells = {c.name, protocol::roleName(c.role), c.worldId, c.peer,
                                   c.connectedSince.toString(u"HH:mm"_s), QLocale().toString(c.messagesSent),
                                   QLocale().formattedDataSize(c.bytesQueued)};
        for (int col = 0; col < cells.size(); ++col) {
            auto *item = new QTableWidgetItem(cells.at(col));
            item->setData(Qt::UserRole, c.id);
            item->setToolTip(plain::toolTip(tr("%1 — %2 of %3, from %4, since %5; %6 messages sent, %7 waiting")
                                 .arg(c.name, protocol::roleName(c.role), c.worldId, c.peer,
                                      c.connectedSince.toString(u"HH:mm:ss"_s), QLocale().toString(c.messagesSent),
                                      QLocale().formattedDataSize(c.bytesQueued))));
            m_clients->setItem(i, col, item);
        }
        if (c.id == selected)
            m_clients->selectRow(i);
    }
    refreshLink();
    m_kick->setEnabled(!clients.isEmpty());
    m_viewAs->setEnabled(!clients.isEmpty());

    const qint64 refused = m_server.refusedCount();
    m_refused->setText(tr("Refused: %1").arg(QLocale().toString(refused)));
    QStringList lines;
    const QList<Refusal> recent = m_server.recentRefusals();
    for (auto it = recent.crbegin(); it != recent.crend() && lines.size() < 8; ++it) {
        QString who = it->address;
        if (!it->role.isEmpty())
            who += u" — "_s + (it->world.isEmpty() ? it->role : tr("%1 of %2").arg(it->role, it->world));
        lines.append(tr("%1  %2: %3").arg(it->at.toString(u"HH:mm:ss"_s), who, it->reason).toHtmlEscaped());
    }
    m_refused->setToolTip(lines.isEmpty() ? tr("No connection has been refused.")
                                          : tr("Latest refusals:") + u"<br>"_s + lines.join(u"<br>"_s));
    // Failed joins slow an address down; a table behind one router shares it.
    const QList<SessionServer::Throttled> throttled = m_server.throttledAddresses();
    if (throttled.isEmpty()) {
        m_throttled->hide();
    } else {
        const SessionServer::Throttled &worst = throttled.first();
        QString text = tr("Slowed down after failed joins: %1 (%n failure(s); a join from it waits up to %2 s)", nullptr,
                          worst.failures).arg(worst.address).arg((worst.delayMs + 999) / 1000);
        if (throttled.size() > 1)
            text += tr(" and %n other address(es)", nullptr, int(throttled.size() - 1));
        text += tr(". Players on that network wait too; it clears an hour after the last failure.");
        m_throttled->setText(text);
        m_throttled->show();
    }
}

void SessionPanel::setWorlds(const QList<std::pair<QString, QString>> &worlds)
{
    const QString current = m_linkWorld->currentData().toString();
    const QSignalBlocker block(m_linkWorld);
    m_linkWorld->clear();
    for (const auto &[id, name] : worlds) {
        m_linkWorld->addItem(name.isEmpty() ? id : name, id);
        m_linkWorld->setItemData(m_linkWorld->count() - 1, plain::toolTip(id), Qt::ToolTipRole);
    }
    const int i = m_linkWorld->findData(current);
    m_linkWorld->setCurrentIndex(i >= 0 ? i : 0);
    refreshLink();
}

QString SessionPanel::joinLink() const
{
    return m_link->text();
}

void SessionPanel::refreshLink()
{
    const bool hosting = m_server.isListening();
    const QString world = m_linkWorld->currentData().toString();
    // Each world has its own code: the one shown is the chosen world's.
    m_code->setText(world.isEmpty() ? QString() : m_server.joinCodeFor(world));
    m_pageBox->setVisible(hosting);
    if (!hosting)
        return;
    if (world.isEmpty()) {
        m_link->clear();
        m_qr->clear();
        m_qrFor.clear();
        m_linkNote->setText(tr("No world yet: the link is for a world, and worlds appear with their first event."));
        return;
    }
    const QString link = m_server.joinLink(world).toString(QUrl::FullyEncoded);
    if (m_link->text() != link) {
        m_link->setText(link);
        m_link->setCursorPosition(0);
    }
    if (m_qrFor != link) {
        m_qrFor = link;
        const QImage image = qrCode(link.toUtf8(), 3);
        m_qr->setPixmap(QPixmap::fromImage(image));
        m_qr->setToolTip(plain::toolTip(link));
    }
    m_linkNote->setText(QHostAddress(m_server.url().host()).isLoopback()
                            ? tr("Only this computer can open it. For players' phones, stop hosting and choose a "
                                 "local network address.")
                            : tr("Players on this network open the link or scan the code, then give their name "
                                 "and character."));
}

} // namespace eventdesk
