// Settings → Notifications as the DM uses it, through the real modal loops:
// a webhook added in its form (a bad URL refused there), a sample sent, an
// event delivered to a local receiver in Discord's body, the delivery listed,
// the rule edited and removed.
#include "DeskTestBase.h"

#include "NotificationsDialog.h"

#include <QCheckBox>
#include <QComboBox>
#include <QListWidget>
#include <QMenuBar>
#include <QTcpServer>
#include <QTcpSocket>

namespace {

// Answers every request 204 and keeps each one's path and body.
class Receiver : public QTcpServer
{
public:
    struct Request {
        QByteArray head, body;
    };
    QList<Request> requests;
    Receiver()
    {
        connect(this, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket *s = nextPendingConnection()) {
                auto buffer = std::make_shared<QByteArray>();
                connect(s, &QTcpSocket::readyRead, s, [this, s, buffer] {
                    *buffer += s->readAll();
                    const qsizetype end = buffer->indexOf("\r\n\r\n");
                    if (end < 0)
                        return;
                    const QByteArray head = buffer->left(end);
                    qsizetype length = 0;
                    for (const QByteArray &line : head.split('\n'))
                        if (line.toLower().startsWith("content-length:"))
                            length = line.mid(15).trimmed().toLongLong();
                    if (buffer->size() < end + 4 + length)
                        return;
                    requests.append({head, buffer->mid(end + 4, length)});
                    s->write("HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                    s->disconnectFromHost();
                });
                connect(s, &QTcpSocket::disconnected, s, &QObject::deleteLater);
            }
        });
    }
};

} // namespace

class TestNotifications : public DeskTestBase
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { setUpDesk(); }
    void webhookThroughTheDialogs();
};

void TestNotifications::webhookThroughTheDialogs()
{
    Receiver receiver;
    QVERIFY(receiver.listen(QHostAddress::LocalHost, 0));
    const QString url = u"http://127.0.0.1:%1/api/webhooks/42/secret-part"_s.arg(receiver.serverPort());

    auto *action = m_window->findChild<QAction *>(u"notifications"_s);
    QVERIFY(action);
    action->trigger();
    auto *dialog = qobject_cast<NotificationsDialog *>(QApplication::activeModalWidget());
    QTRY_VERIFY((dialog = m_window->findChild<NotificationsDialog *>()) && dialog->isVisible());
    const auto button = [](QWidget *in, const QString &text) {
        for (QPushButton *b : in->findChildren<QPushButton *>())
            if (b->text() == text)
                return b;
        return static_cast<QPushButton *>(nullptr);
    };

    // Add…: a URL that is not one stays in the form with a reason; then a real one.
    bool refused = false;
    whenModal<WebhookRuleDialog>(this, [&](WebhookRuleDialog *form) {
        form->urlEdit()->setText(u"discord webhook please"_s);
        form->findChild<QDialogButtonBox *>()->button(QDialogButtonBox::Save)->click();
        refused = form->isVisible();
        form->urlEdit()->setText(url);
        form->formatBox()->setCurrentIndex(form->formatBox()->findData(u"discord"_s));
        for (int i = 0; i < form->typeList()->count(); ++i)
            if (form->typeList()->item(i)->text() == u"ChallengeResolved"_s)
                form->typeList()->item(i)->setCheckState(Qt::Checked);
        form->templateEdit()->setText(u"{character} {succeeded|failed} at {challenge}"_s);
        form->findChild<QDialogButtonBox *>()->button(QDialogButtonBox::Save)->click();
    });
    button(dialog, u"Add…"_s)->click();
    QTRY_COMPARE(dialog->rulesTable()->rowCount(), 1);
    QVERIFY(refused);
    QCOMPARE(dialog->rulesTable()->item(0, 2)->text(), u"http://127.0.0.1:%1/…"_s.arg(receiver.serverPort()));
    QVERIFY(!dialog->rulesTable()->item(0, 2)->text().contains(u"secret"_s));

    // Send test: the sample reaches the receiver and the dialog says so.
    dialog->rulesTable()->selectRow(0);
    button(dialog, u"Send test"_s)->click();
    QTRY_COMPARE(receiver.requests.size(), 1);
    QTRY_VERIFY(dialog->statusLabel()->text().contains(u"accepted the sample"_s));

    // A roll in the log goes out as a Discord message; the delivery is listed.
    ChallengeService challenges(*m_bus, 5);
    QVERIFY(await(challenges.resolve(std::nullopt, u"Climb the cliff"_s, u"Ravenmoor"_s, u"pc1"_s, 12, 1).published).ok());
    QVERIFY(await(StoryEventService(*m_bus).record(u"Ravenmoor"_s, StoryKind::Dialogue)).ok());  // not a challenge: not sent
    QTRY_COMPARE_WITH_TIMEOUT(receiver.requests.size(), 2, 10000);
    const QJsonObject body = QJsonDocument::fromJson(receiver.requests.at(1).body).object();
    QVERIFY2(body.value(u"content"_s).toString().contains(u"at Climb the cliff"_s), receiver.requests.at(1).body.constData());
    QCOMPARE(body.value(u"embeds"_s).toArray().size(), 1);
    QVERIFY(receiver.requests.at(1).head.contains("Idempotency-Key: evd-"));
    QTRY_VERIFY_WITH_TIMEOUT(dialog->deliveriesTable()->rowCount() == 1
                                 && dialog->deliveriesTable()->item(0, 2)->text() == u"delivered"_s, 5000);

    // Edit…: off, and a message of today's engine (a recording's) picked too; Remove asks first.
    dialog->rulesTable()->selectRow(0);
    QString engineLabel;
    whenModal<WebhookRuleDialog>(this, [&engineLabel](WebhookRuleDialog *form) {
        form->findChild<QCheckBox *>()->setChecked(false);
        for (int i = 0; i < form->typeList()->count(); ++i) {
            QListWidgetItem *item = form->typeList()->item(i);
            if (item->data(Qt::UserRole).toString() == u"DialogueResponse"_s) {
                engineLabel = item->text();
                item->setCheckState(Qt::Checked);
            }
        }
        form->findChild<QDialogButtonBox *>()->button(QDialogButtonBox::Save)->click();
    });
    button(dialog, u"Edit…"_s)->click();
    QTRY_COMPARE(dialog->rulesTable()->item(0, 0)->text(), u"no"_s);
    QCOMPARE(engineLabel, u"DialogueResponse (engine: conversation)"_s);
    QCOMPARE(dialog->rulesTable()->item(0, 3)->text(), u"ChallengeResolved, DialogueResponse"_s);
    whenModal<QMessageBox>(this, [](QMessageBox *box) { box->button(QMessageBox::Cancel)->click(); });
    dialog->removeSelected();
    QCOMPARE(dialog->rulesTable()->rowCount(), 1);
    whenModal<QMessageBox>(this, [](QMessageBox *box) {
        for (QAbstractButton *b : box->buttons())
            if (b->text() == u"Remove"_s)
                b->click();
    });
    dialog->removeSelected();
    QTRY_COMPARE(dialog->rulesTable()->rowCount(), 0);
    dialog->close();
}

QTEST_MAIN(TestNotifications)
#include "tst_notifications.moc"
