// Package dhcp is an RFC 2131 DHCP client for one interface of a core.Stack,
// with lwIP's raw API (dhcp.c): New allocates it and registers it with the
// stack, Start (dhcp_start), Stop (dhcp_stop), Release (dhcp_release), Renew
// (dhcp_renew). Replies arrive through a UDP endpoint tied to the interface
// (UDP.BindNetif); timers run from Stack.Poll (core.Poller).
//
// The client goes INIT → SELECTING (DHCPDISCOVER, broadcast) → REQUESTING
// (DHCPREQUEST for the first acceptable offer) → CHECKING (ARP probes of the
// acknowledged address, RFC 5227; DHCPDECLINE and a 10 s back-off on a
// conflict) → BOUND (Stack.SetAddr with mask and router; DNS servers handed
// to Config.DNS) → RENEWING at T1 (unicast) → REBINDING at T2 (broadcast) →
// lease expiry (address removed, back to INIT). A DHCPNAK restarts from
// INIT. INIT-REBOOT runs when Config.RequestedAddr is set. Transmissions are
// retried after 4, 8, 16, 32, 64, 64 … s, each ±1 s (RFC 2131 §4.1); in
// RENEWING and REBINDING after half the remaining time, at least 60 s
// (§4.4.5). Config.OnEvent reports bound, renewed, lost and declined.
//
// Replies are accepted broadcast or unicast to the offered address (the
// stack takes UDP port 68 on an interface without an address, lwIP's
// LWIP_IP_ACCEPT_UDP_PORT), and only when they come from port 67, are
// BOOTREPLYs for Ethernet with our chaddr and the current xid, carry
// well-formed options, and fit the state; anything else is dropped and
// counted in Stats. Transaction IDs come from the stack's seeded generator,
// fresh for every exchange.
//
// Memory: New allocates the client and its 548-byte message buffer; nothing
// afterwards allocates. Parse and ParseOptions never panic on any input.
//
// # Not implemented
//
// DHCPINFORM; collecting several offers (the first acceptable one wins);
// client identifier (option 61) and other options beyond those parsed in
// Options; option overload on output; RFC 3396 long options beyond
// concatenating DNS servers; relay agents' giaddr handling on the client
// side; defending the address after BOUND beyond what the stack's ARP does
// (RFC 5227 §2.4); AutoIP fallback (LWIP_DHCP_AUTOIP_COOP); IPv6 (DHCPv6).
package dhcp
