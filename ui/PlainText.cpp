#include "PlainText.h"

#include <QLabel>
#include <QMessageBox>
#include <QPushButton>
#include <QTextDocument>

using namespace Qt::StringLiterals;

namespace eventdesk::plain {

QString toolTip(const QString &text)
{
    if (text.isEmpty())
        return {};
    // Rich text on purpose: a tooltip Qt takes for plain text is still guessed
    // again, and escaped HTML is the one form it shows exactly as written.
    return Qt::convertFromPlainText(text, Qt::WhiteSpaceNormal);
}

QLabel *label(QLabel *label)
{
    label->setTextFormat(Qt::PlainText);
    return label;
}

namespace {

int run(QMessageBox &box)
{
    box.setTextFormat(Qt::PlainText);
    return box.exec();
}

} // namespace

bool confirmAct(QWidget *parent, const QString &title, const QString &text, const QString &act)
{
    QMessageBox box(QMessageBox::Warning, title, text, QMessageBox::NoButton, parent);
    QPushButton *go = box.addButton(act, QMessageBox::AcceptRole);
    QPushButton *cancel = box.addButton(QMessageBox::Cancel);
    box.setDefaultButton(cancel);
    box.setEscapeButton(cancel);
    run(box);
    return box.clickedButton() == go;
}

bool ask(QWidget *parent, const QString &title, const QString &text)
{
    QMessageBox box(QMessageBox::Question, title, text, QMessageBox::Yes | QMessageBox::No, parent);
    box.setDefaultButton(QMessageBox::Yes);
    return run(box) == QMessageBox::Yes;
}

void inform(QWidget *parent, const QString &title, const QString &text)
{
    QMessageBox box(QMessageBox::Information, title, text, QMessageBox::Ok, parent);
    run(box);
}

void critical(QWidget *parent, const QString &title, const QString &text)
{
    QMessageBox box(QMessageBox::Critical, title, text, QMessageBox::Ok, parent);
    run(box);
}

} // namespace eventdesk::plain
