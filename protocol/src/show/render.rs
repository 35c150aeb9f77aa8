//! The `render_*` functions: a view in, the text the appliance prints out.

use super::*;

// ----- renderers ---------------------------------------------------------------

/// `200 milliseconds` below a second or off whole seconds, else `5 seconds`.
fn duration_words(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1_000 || ms % 1_000 != 0 { format!("{ms} milliseconds") } else { format!("{} seconds", ms / 1_000) }
}

fn line(out: &mut String, args: fmt::Arguments<'_>) {
    let _ = out.write_fmt(args);
    out.push('\n');
}

macro_rules! outln {
    ($out:expr) => { $out.push('\n') };
    ($out:expr, $($arg:tt)*) => { line($out, format_args!($($arg)*)) };
}

fn render_host(out: &mut String, label: &str, host: &HostView) {
    // `  This host:    Primary` / `  Other host:   Secondary`: the value starts in column 16.
    outln!(out, "  {:<14}{}", format!("{label}:"), host.role);
    for g in &host.groups {
        // At column 0, unlike the appliance's indented line: the common
        // TextFSM template (ntc-templates) anchors `Group N State:` there.
        outln!(out, "{:<16}{:<16}{}", format!("Group {}", g.group), "State:", g.state);
        outln!(out, "{:16}{:<16}{} (sec)", "", "Active time:", g.active_time_s);
    }
    outln!(out);
    let version = host.version.map_or_else(|| "Unknown".to_owned(), |v| v.to_string());
    outln!(out, "{:16}slot 0: {} hw/sw rev (1.0/{version}) status (Up Sys)", "", host.model);
    for row in &host.interfaces {
        outln!(
            out,
            "{:16}{} Interface {} ({}): {}",
            "",
            row.context,
            row.name,
            row.shown_address(host.group_active(row.group)),
            row.shown_status()
        );
    }
}

/// `show failover`.
pub fn render_failover(v: &FailoverView) -> String {
    let mut out = String::new();
    let o = &mut out;
    outln!(o, "Failover {}", if v.failover_on { "On" } else { "Off" });
    outln!(o, "Failover unit {}", v.role);
    outln!(o, "Failover LAN Interface: {}", v.lan);
    outln!(o, "Unit Poll frequency {}, holdtime {}", duration_words(v.unit_polltime), duration_words(v.unit_holdtime));
    outln!(
        o,
        "Interface Poll frequency {}, holdtime {}",
        duration_words(v.interface_polltime),
        duration_words(v.interface_holdtime)
    );
    outln!(o, "Interface Policy {}", v.interface_policy);
    outln!(o, "Monitored Interfaces {} of {} maximum", v.monitored, v.monitored_max);
    if v.replication_http {
        outln!(o, "failover replication http");
    }
    let mate = v.mate_version.map_or_else(|| "Unknown".to_owned(), |m| m.to_string());
    outln!(o, "Version: Ours {}, Mate {mate}", v.version);
    for (g, at) in &v.last_failover {
        outln!(o, "Group {g} last failover at: {at}");
    }
    outln!(o);
    render_host(o, "This host", &v.this_host);
    outln!(o);
    render_host(o, "Other host", &v.other_host);
    outln!(o);
    render_stateful(o, &v.stateful);
    out
}

fn render_stateful(o: &mut String, s: &StatefulView) {
    outln!(o, "Stateful Failover Logical Update Statistics");
    let Some(link) = &s.link else {
        outln!(o, "        Link : Unconfigured.");
        return;
    };
    outln!(o, "        Link : {link}");
    outln!(o, "        {:<16}{:<11}{:<11}{:<11}{}", "Stateful Obj", "xmit", "xerr", "rcv", "rerr");
    for r in &s.rows {
        let c = r.counters;
        outln!(o, "        {:<16}{:<11}{:<11}{:<11}{}", r.object, c.xmit, c.xerr, c.rcv, c.rerr);
    }
    outln!(o);
    outln!(o, "        Logical Update Queue Information");
    outln!(o, "        {:16}{:<8}{:<8}{}", "", "Cur", "Max", "Total");
    for (name, q) in [("Recv Q:", s.recv_q), ("Xmit Q:", s.xmit_q)] {
        outln!(o, "        {name:<16}{:<8}{:<8}{}", q[0], q[1], q[2]);
    }
}

/// `show failover state`.
pub fn render_state(v: &StateView) -> String {
    let mut out = String::new();
    let o = &mut out;
    outln!(o, "{:15}{:<15}{:<25}{}", "", "State", "Last Failure Reason", "Date/Time");
    for (label, role, lines) in
        [("This host  -   ", v.role, &v.this_host), ("Other host -   ", v.role.peer(), &v.other_host)]
    {
        outln!(o, "{label}{role}");
        for l in lines {
            let (reason, at) = match &l.last_failure {
                None => ("None".to_owned(), String::new()),
                Some((r, at)) => (r.clone(), at.map(|t| t.to_string()).unwrap_or_default()),
            };
            let text = format!("    {:<11}{:<15}{:<25}{at}", format!("Group {}", l.group), l.state.as_str(), reason);
            outln!(o, "{}", text.trim_end());
            for d in &l.details {
                outln!(o, "{:30}{d}", "");
            }
        }
    }
    outln!(o);
    outln!(o, "====Configuration State===");
    outln!(o, "        {}", v.configuration_state);
    outln!(o, "====Communication State===");
    outln!(o, "        {}", v.communication_state);
    out
}

/// `show failover history`.
pub fn render_history(v: &HistoryView) -> String {
    let rule = "=".repeat(74);
    let mut out = String::new();
    let o = &mut out;
    for (g, rows) in &v.groups {
        outln!(o, "Group {g}");
        outln!(o, "{rule}");
        outln!(o, "{:<27}{:<27}{}", "From State", "To State", "Reason");
        outln!(o, "{rule}");
        for r in rows {
            outln!(o, "{}", r.at);
            outln!(o, "{:<27}{:<27}{}", r.from.as_str(), r.to.as_str(), r.reason);
            outln!(o);
        }
        outln!(o, "{rule}");
    }
    out
}

/// `show failover interface`.
pub fn render_failover_interface(v: &FailoverInterfaceView) -> String {
    let mut out = String::new();
    let o = &mut out;
    for i in &v.interfaces {
        outln!(o, "        interface {} {}", i.name, i.hardware);
        match &i.address {
            None => outln!(o, "                System IP Address: Unconfigured."),
            Some(a) => {
                let standby = a.standby.map_or_else(|| "Unconfigured.".to_owned(), |s| s.to_string());
                let (mine, other) = match i.role {
                    Role::Primary => (a.address.to_string(), standby),
                    Role::Secondary => (standby, a.address.to_string()),
                };
                outln!(o, "                System IP Address: {} {}", a.address, a.mask);
                outln!(o, "                My IP Address    : {mine}");
                outln!(o, "                Other IP Address : {other}");
            }
        }
    }
    out
}

/// `show monitor-interface`: per group, this host's then the mate's interfaces of the group.
pub fn render_monitor_interface(this_host: &HostView, other_host: &HostView) -> String {
    let mut out = String::new();
    let o = &mut out;
    for g in Group::ALL {
        outln!(o, "Group {g}");
        for (label, host) in [("This host", this_host), ("Other host", other_host)] {
            let state = host.group_state(*g).map_or("Unknown", ShownState::as_str);
            outln!(o, "       {label}: {} - {state}", host.role);
            for row in host.interfaces.iter().filter(|r| r.group == *g) {
                outln!(
                    o,
                    "              {} Interface {} ({}): {}",
                    row.context,
                    row.name,
                    row.shown_address(host.group_active(*g)),
                    row.shown_status()
                );
            }
        }
    }
    out
}

fn time_words(d: Duration, force_msec: bool) -> String {
    let ms = d.as_millis();
    if force_msec || ms % 1_000 != 0 { format!("msec {ms}") } else { format!("{}", ms / 1_000) }
}

/// `show running-config [all] failover`. Without `all`, options at their
/// default values are left out, as the appliance does.
pub fn render_running_config(v: &RunningConfigView) -> String {
    use crate::config::settings::GroupConfig;
    use crate::constants::{UNIT_HOLDTIME_MS_DEFAULT, UNIT_POLLTIME_MS_DEFAULT};
    let mut out = String::new();
    let o = &mut out;
    outln!(o, "{}", if v.failover_on { "failover" } else { "no failover" });
    outln!(o, "failover lan unit {}", v.role.as_lower());
    outln!(o, "failover lan interface {FAILOVER_LINK_NAME} {}", v.failover_hardware);
    let unit_default = v.unit_polltime == Duration::from_millis(UNIT_POLLTIME_MS_DEFAULT)
        && v.unit_holdtime == Duration::from_millis(UNIT_HOLDTIME_MS_DEFAULT);
    if v.all || !unit_default {
        let sub_second = v.unit_polltime.as_millis() < 1_000;
        outln!(
            o,
            "failover polltime unit {} holdtime {}",
            time_words(v.unit_polltime, sub_second),
            time_words(v.unit_holdtime, v.unit_holdtime.as_millis() < 1_000)
        );
    }
    if v.key_set {
        outln!(o, "failover key *****");
    }
    if v.state_link_shared {
        outln!(o, "failover link {FAILOVER_LINK_NAME} {}", v.failover_hardware);
    } else if let Some((name, hw)) = &v.state_link {
        outln!(o, "failover link {name} {hw}");
    }
    if let Some(a) = &v.failover_address {
        let standby = a.standby.map(|s| format!(" standby {s}")).unwrap_or_default();
        outln!(o, "failover interface ip {FAILOVER_LINK_NAME} {} {}{standby}", a.address, a.mask);
    }
    for (g, c) in &v.groups {
        let d = GroupConfig::default_for(*g);
        outln!(o, "failover group {g}");
        if v.all || c.preferred != d.preferred {
            outln!(o, "  {}", c.preferred.as_lower());
        }
        match c.preempt_delay {
            Some(delay) if delay.is_zero() => outln!(o, "  preempt"),
            Some(delay) => outln!(o, "  preempt {}", delay.as_secs()),
            None if v.all => outln!(o, "  no preempt"),
            None => {}
        }
        if v.all || c.replication_http {
            outln!(o, "  {}replication http", if c.replication_http { "" } else { "no " });
        }
        if v.all || c.interface_policy != d.interface_policy {
            outln!(o, "  interface-policy {}", c.interface_policy);
        }
        if v.all || c.interface_polltime != d.interface_polltime || c.interface_holdtime != d.interface_holdtime {
            outln!(
                o,
                "  polltime interface {} holdtime {}",
                time_words(c.interface_polltime, c.interface_polltime.as_millis() < 1_000),
                c.interface_holdtime.as_secs()
            );
        }
    }
    out
}

fn uptime_words(d: Duration) -> String {
    let s = d.as_secs();
    let (days, hours, mins, secs) = (s / 86_400, (s / 3_600) % 24, (s / 60) % 60, s % 60);
    let mut parts = Vec::new();
    if days > 0 {
        parts.push(format!("{days} day{}", if days == 1 { "" } else { "s" }));
    }
    if hours > 0 {
        parts.push(format!("{hours} hour{}", if hours == 1 { "" } else { "s" }));
    }
    if mins > 0 {
        parts.push(format!("{mins} min{}", if mins == 1 { "" } else { "s" }));
    }
    if parts.is_empty() || days == 0 && hours == 0 {
        parts.push(format!("{secs} sec{}", if secs == 1 { "" } else { "s" }));
    }
    parts.join(" ")
}

fn render_license(o: &mut String, v: &ActivationKeyView) {
    let l = &v.license;
    let failover = match l.kind {
        LicenseKind::Unrestricted | LicenseKind::FailoverOnlyActiveActive => "Active/Active",
        LicenseKind::FailoverOnly => "Active/Standby",
        LicenseKind::Restricted => "Disabled",
    };
    outln!(o, "Licensed features for this platform:");
    outln!(o, "{:<28}: {failover}", "Failover");
    outln!(o, "{:<28}: {}", "Security Contexts", l.features.contexts);
    outln!(o, "{:<28}: {}", "VPN Peers", l.features.vpn_peers);
    outln!(o);
    let name = l.kind.long_name();
    let article = if name.starts_with(['A', 'E', 'I', 'O', 'U']) { "an" } else { "a" };
    outln!(o, "This platform has {article} {name} ({}) license.", l.kind.as_str());
}

fn key_words(key: Option<ActivationKey>) -> String {
    key.map_or_else(|| "Not Available".to_owned(), |k| k.to_string())
}

/// `show activation-key`.
pub fn render_activation_key(v: &ActivationKeyView) -> String {
    let mut out = String::new();
    let o = &mut out;
    outln!(o, "Serial Number: {}", v.serial.as_deref().unwrap_or("Unknown"));
    outln!(o, "Running Activation Key: {}", key_words(v.running_key));
    outln!(o);
    render_license(o, v);
    outln!(o);
    match v.flash_key {
        None => outln!(o, "The flash activation key is the SAME as the running key."),
        Some(k) => {
            outln!(o, "The flash activation key is DIFFERENT from the running key.");
            outln!(o, "The flash activation key takes effect after the next reload.");
            outln!(o, "Flash activation key: {k}");
        }
    }
    out
}

/// `show version`.
pub fn render_version(v: &VersionView) -> String {
    let mut out = String::new();
    let o = &mut out;
    outln!(o, "Cisco Adaptive Security Appliance Software Version {} <system>", v.version);
    outln!(o);
    outln!(o, "{} up {}", v.hostname, uptime_words(v.uptime));
    outln!(o);
    outln!(o, "Hardware:   {}, {} MB RAM, CPU {}", v.model, v.ram_mb, v.cpu);
    outln!(o);
    render_license(o, &v.activation);
    outln!(o);
    outln!(o, "Serial Number: {}", v.activation.serial.as_deref().unwrap_or("Unknown"));
    outln!(o, "Running Activation Key: {}", key_words(v.activation.running_key));
    outln!(o, "Configuration register is 0x1");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn show_lines_parse_apart_from_failover_commands() {
        use crate::show::{ShowCommand, parse_show_command};
        assert_eq!(parse_show_command("show failover history"), Ok(Some(ShowCommand::FailoverHistory)));
        assert_eq!(parse_show_command("failover active"), Ok(None));
        assert!(parse_show_command("show failover nonsense").is_err());
    }

    #[test]
    fn wall_time_formats_like_the_appliance() {
        assert_eq!(WallTime::from_instant(Instant::ZERO).to_string(), "00:00:00 UTC Jan 1 2026");
        // Leap year, end of February, and a year boundary.
        assert_eq!(WallTime(1_709_164_799).to_string(), "23:59:59 UTC Feb 28 2024");
        assert_eq!(WallTime(1_709_164_800).to_string(), "00:00:00 UTC Feb 29 2024");
        assert_eq!(WallTime(1_798_761_599).to_string(), "23:59:59 UTC Dec 31 2026");
    }

    #[test]
    fn durations_read_like_the_appliance() {
        assert_eq!(duration_words(Duration::from_millis(200)), "200 milliseconds");
        assert_eq!(duration_words(Duration::from_secs(15)), "15 seconds");
        assert_eq!(uptime_words(Duration::from_secs(20)), "20 secs");
        assert_eq!(uptime_words(Duration::from_secs(3_725)), "1 hour 2 mins");
    }

    #[test]
    fn unknown_show_commands_are_errors_that_list_the_known_ones() {
        let e = ShowCommand::parse("show failover grup 1").unwrap_err();
        assert!(e.to_string().contains("show failover history"), "{e}");
        assert!(ShowCommand::parse("").is_err());
        assert_eq!(ShowCommand::parse("  SHOW   Version "), Ok(ShowCommand::Version));
    }
}
