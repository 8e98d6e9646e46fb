import KubeModel

/// Address family identifier (RFC 4760), with its companion `SAFI`.
public enum AFI: UInt16, Sendable { case ipv4 = 1, ipv6 = 2 }

/// Subsequent address family identifier (RFC 4760).
public enum SAFI: UInt8, Sendable { case unicast = 1 }
