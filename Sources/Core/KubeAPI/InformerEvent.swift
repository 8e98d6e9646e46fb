import Foundation
import KubeModel

/// What an informer tells its controllers.
public enum InformerEvent: Sendable {
    case added(KubeObject)
    case updated(old: KubeObject, new: KubeObject)
    case deleted(KubeObject)
    /// The first complete list has been stored (sent once per reflector).
    case synced(APIResource)
    /// An object the API serves that cannot be read: it is named, and its last good version (if any)
    /// stays in force until a good version arrives or the object is deleted. Sent when it is first
    /// rejected and whenever the reason changes.
    case rejected(ObjectRejection)
    /// A connection problem; the rest keeps working.
    case problem(String)
}
