import Foundation
import Testing

@testable import KubeModel

/// JSON merge patch (RFC 7386), strategic merge patch and JSON patch (RFC 6902), as kube-test-server applies them.
@Suite struct MergePatchTests {
    @Test func rfc7386() throws {
        let target = try JSONValue.parseJSON(Data(#"{"a":"b","c":{"d":"e","f":"g"},"l":[1,2]}"#.utf8))
        let patch = try JSONValue.parseJSON(Data(#"{"a":"z","c":{"f":null},"l":[3]}"#.utf8))
        #expect(
            MergePatch.apply(patch, to: target)
                == (try JSONValue.parseJSON(Data(#"{"a":"z","c":{"d":"e"},"l":[3]}"#.utf8))))
    }

    @Test func strategicListsMergeByKey() throws {
        let target = try JSONValue.parseJSON(
            Data(#"{"spec":{"containers":[{"name":"a","image":"1"},{"name":"b","image":"1"}]}}"#.utf8))
        let patch = try JSONValue.parseJSON(
            Data(
                (#"{"spec":{"$setElementOrder/containers":[{"name":"b"},{"name":"a"}],"#
                    + #""containers":[{"name":"b","image":"2"}]}}"#).utf8))
        let result = MergePatch.applyStrategic(patch, to: target)
        #expect(
            result
                == (try JSONValue.parseJSON(
                    Data(#"{"spec":{"containers":[{"name":"b","image":"2"},{"name":"a","image":"1"}]}}"#.utf8))))
        let delete = try JSONValue.parseJSON(
            Data(
                (#"{"spec":{"$setElementOrder/containers":[{"name":"a"}],"#
                    + #""containers":[{"name":"b","$patch":"delete"}]}}"#).utf8))
        #expect(MergePatch.applyStrategic(delete, to: target)["spec"]?["containers"]?.arrayValue?.count == 1)
    }

    @Test func jsonPatch() throws {
        let target = try JSONValue.parseJSON(Data(#"{"metadata":{"labels":{"a":"1"}},"spec":{"list":[1,2]}}"#.utf8))
        let ops = try JSONValue.parseJSON(
            Data(
                (#"[{"op":"add","path":"/metadata/labels/b~1c","value":"2"},"#
                    + #"{"op":"remove","path":"/metadata/labels/a"},"#
                    + #"{"op":"add","path":"/spec/list/-","value":3},"#
                    + #"{"op":"replace","path":"/spec/list/0","value":0},"#
                    + #"{"op":"test","path":"/spec/list/1","value":2}]"#).utf8))
        let result = try MergePatch.applyJSONPatch(ops, to: target)
        #expect(
            result
                == (try JSONValue.parseJSON(Data(#"{"metadata":{"labels":{"b/c":"2"}},"spec":{"list":[0,2,3]}}"#.utf8)))
        )
        let failing = try JSONValue.parseJSON(Data(#"[{"op":"test","path":"/spec/list/0","value":9}]"#.utf8))
        #expect(throws: MergePatch.PatchError.self) { try MergePatch.applyJSONPatch(failing, to: target) }
        let missing = try JSONValue.parseJSON(Data(#"[{"op":"replace","path":"/nope","value":1}]"#.utf8))
        #expect(throws: MergePatch.PatchError.self) { try MergePatch.applyJSONPatch(missing, to: target) }
    }
}
