// Compiled as C++14 (see quickfix_bridge.h): the only file that includes QuickFIX.
#include "fix/quickfix_bridge.h"

#include <quickfix/Application.h>
#include <quickfix/FileLog.h>
#include <quickfix/FileStore.h>
#include <quickfix/Message.h>
#include <quickfix/MessageStore.h>
#include <quickfix/Session.h>
#include <quickfix/SessionSettings.h>
#include <quickfix/SocketAcceptor.h>
#include <quickfix/SocketInitiator.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <sstream>
#include <stdexcept>

namespace pairflow {
namespace fix {

struct QuickFixBridge::Impl : public FIX::Application {
  Impl(const BridgeSettings& s, BridgeEvents& e) : settings(s), events(e) {}

  void onCreate(const FIX::SessionID& id) override { session_id = id; }
  void onLogon(const FIX::SessionID& id) override {
    // Later logons of this process resume the sequence (gaps are recovered by resend requests).
    if (FIX::Session* session = FIX::Session::lookupSession(id)) session->setResetOnLogon(false);
    logged_on.store(true);
    events.on_logon();
  }
  void onLogout(const FIX::SessionID&) override {
    logged_on.store(false);
    events.on_logout();
  }
  void toAdmin(FIX::Message&, const FIX::SessionID&) override {}
  void toApp(FIX::Message& message, const FIX::SessionID&) throw(FIX::DoNotSend) override {
    FIX::PossDupFlag poss_dup;
    if (!message.getHeader().isSetField(poss_dup)) return;
    message.getHeader().getField(poss_dup);
    if (!poss_dup) return;
    FIX::MsgType type;
    message.getHeader().getField(type);
    const auto& never = settings.never_resend;
    if (std::find(never.begin(), never.end(), type.getString()) != never.end())
      throw FIX::DoNotSend();
  }
  void fromAdmin(const FIX::Message& message,
                 const FIX::SessionID&) throw(FIX::FieldNotFound, FIX::IncorrectDataFormat,
                                              FIX::IncorrectTagValue, FIX::RejectLogon) override {
    FIX::MsgType type;
    message.getHeader().getField(type);
    if (type.getString() == "3") {  // session-level Reject
      std::string text = "session reject";
      FIX::Text t;
      if (message.isSetField(t)) {
        message.getField(t);
        text += ": " + t.getString();
      }
      events.on_session_problem(text);
    }
  }
  void fromApp(const FIX::Message& message,
               const FIX::SessionID&) throw(FIX::FieldNotFound, FIX::IncorrectDataFormat,
                                            FIX::IncorrectTagValue,
                                            FIX::UnsupportedMessageType) override {
    ++received;
    FixMessage m;
    FIX::MsgType type;
    message.getHeader().getField(type);
    m.type = type.getString();
    FIX::PossDupFlag poss_dup;
    if (message.getHeader().isSetField(poss_dup)) {
      message.getHeader().getField(poss_dup);
      m.poss_dup = poss_dup;
    }
    for (FIX::FieldMap::const_iterator it = message.begin(); it != message.end(); ++it)
      m.fields.emplace_back(it->getTag(), it->getString());
    events.on_message(m);
  }

  std::string settings_text() const {
    std::ostringstream s;
    s << "[DEFAULT]\n";
    s << "ConnectionType=" << (settings.acceptor ? "acceptor" : "initiator") << "\n";
    s << "BeginString=FIX.4.4\n";
    s << "SenderCompID=" << settings.sender_comp_id << "\n";
    s << "TargetCompID=" << settings.target_comp_id << "\n";
    s << "HeartBtInt=" << settings.heartbeat_s << "\n";
    s << "StartTime=00:00:00\nEndTime=00:00:00\n";
    s << "UseDataDictionary=N\n";
    s << "ValidateUserDefinedFields=N\nValidateFieldsOutOfOrder=N\n";
    s << "PersistMessages=Y\n";
    s << "SocketNodelay=Y\n";
    if (settings.store == "file") s << "FileStorePath=" << settings.store_path << "\n";
    if (!settings.log_path.empty()) s << "FileLogPath=" << settings.log_path << "\n";
    if (settings.acceptor) {
      s << "SocketAcceptPort=" << settings.port << "\n";
      s << "SocketReuseAddress=Y\n";
    } else {
      s << "SocketConnectHost=" << settings.host << "\n";
      s << "SocketConnectPort=" << settings.port << "\n";
      s << "ReconnectInterval=" << std::max(1, settings.reconnect_s) << "\n";
      if (settings.reset_on_first_logon) s << "ResetOnLogon=Y\n";
    }
    s << "[SESSION]\n";
    return s.str();
  }

  BridgeSettings settings;
  BridgeEvents& events;
  FIX::SessionID session_id;
  std::atomic<bool> logged_on{false};
  std::atomic<std::uint64_t> sent{0}, received{0};
  std::unique_ptr<FIX::SessionSettings> quickfix_settings;
  std::unique_ptr<FIX::MessageStoreFactory> store;
  std::unique_ptr<FIX::LogFactory> log;
  std::unique_ptr<FIX::Initiator> initiator;
  std::unique_ptr<FIX::Acceptor> acceptor;
  std::mutex send_mutex;
};

QuickFixBridge::QuickFixBridge(const BridgeSettings& settings, BridgeEvents& events)
    : impl_(new Impl(settings, events)) {
  if (settings.store != "memory" && settings.store != "file")
    throw std::runtime_error("fix: store must be \"memory\" or \"file\", not \"" + settings.store +
                             "\"");
  try {
    std::istringstream text(impl_->settings_text());
    impl_->quickfix_settings.reset(new FIX::SessionSettings(text));
    if (settings.store == "file") {
      impl_->store.reset(new FIX::FileStoreFactory(settings.store_path));
    } else {
      impl_->store.reset(new FIX::MemoryStoreFactory());
    }
    if (!settings.log_path.empty()) impl_->log.reset(new FIX::FileLogFactory(settings.log_path));
    if (settings.acceptor) {
      if (impl_->log) {
        impl_->acceptor.reset(
            new FIX::SocketAcceptor(*impl_, *impl_->store, *impl_->quickfix_settings, *impl_->log));
      } else {
        impl_->acceptor.reset(
            new FIX::SocketAcceptor(*impl_, *impl_->store, *impl_->quickfix_settings));
      }
    } else {
      if (impl_->log) {
        impl_->initiator.reset(new FIX::SocketInitiator(*impl_, *impl_->store,
                                                        *impl_->quickfix_settings, *impl_->log));
      } else {
        impl_->initiator.reset(
            new FIX::SocketInitiator(*impl_, *impl_->store, *impl_->quickfix_settings));
      }
    }
  } catch (const FIX::Exception& e) {
    throw std::runtime_error(std::string("fix: ") + e.what());
  }
}

QuickFixBridge::~QuickFixBridge() { stop(); }

void QuickFixBridge::start() {
  try {
    if (impl_->acceptor) impl_->acceptor->start();
    if (impl_->initiator) impl_->initiator->start();
  } catch (const FIX::Exception& e) {
    throw std::runtime_error(std::string("fix: ") + e.what());
  }
}

void QuickFixBridge::stop() {
  try {
    if (impl_->initiator && !impl_->initiator->isStopped()) impl_->initiator->stop();
    if (impl_->acceptor && !impl_->acceptor->isStopped()) impl_->acceptor->stop();
  } catch (const FIX::Exception&) {
    // Stopping: nothing left to tell anyone.
  }
  impl_->logged_on.store(false);
}

bool QuickFixBridge::send(const FixMessage& m, bool store_when_offline) {
  if (!impl_->logged_on.load() && !store_when_offline) return false;
  FIX::Message message;
  message.getHeader().setField(FIX::BeginString("FIX.4.4"));
  message.getHeader().setField(FIX::MsgType(m.type));
  for (const auto& f : m.fields) message.setField(f.first, f.second);
  try {
    std::lock_guard<std::mutex> lock(impl_->send_mutex);
    if (!FIX::Session::sendToTarget(message, impl_->session_id)) return false;
  } catch (const FIX::SessionNotFound&) {
    return false;
  }
  ++impl_->sent;
  return true;
}

bool QuickFixBridge::logged_on() const { return impl_->logged_on.load(); }

void QuickFixBridge::drop() {
  if (FIX::Session* session = FIX::Session::lookupSession(impl_->session_id)) {
    std::lock_guard<std::mutex> lock(impl_->send_mutex);
    session->disconnect();
  }
}

int QuickFixBridge::port() const { return impl_->settings.port; }
std::uint64_t QuickFixBridge::messages_sent() const { return impl_->sent.load(); }
std::uint64_t QuickFixBridge::messages_received() const { return impl_->received.load(); }

}  // namespace fix
}  // namespace pairflow
