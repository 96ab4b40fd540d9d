#!/usr/bin/env python3
"""A tiny Kubernetes API endpoint for testing what gantry asks of kubectl.

No cluster can run on the test machines, so the real kubectl talks to this:
discovery (/api, /apis, …), server-side apply (PATCH application/apply-patch+yaml)
of Deployments, Services, HPAs and Secrets, and the reads behind `kubectl rollout
status` (the Deployment, with a watch) and the failure diagnostics (pods, events).
Each request is recorded in --log as one JSON line {method, path, query,
content_type, body}. --rollout ready: the Deployment reports itself rolled out;
--rollout stuck: it never becomes available (rollout status must time out).
"""
import argparse, json, threading, time
from httpbase import QuietHandler, serve
from urllib.parse import parse_qs, urlparse

RESOURCES = {
    ("", "v1"): [("services", "Service", True), ("secrets", "Secret", True), ("pods", "Pod", True),
                 ("events", "Event", True), ("namespaces", "Namespace", False)],
    ("apps", "v1"): [("deployments", "Deployment", True), ("replicasets", "ReplicaSet", True)],
    ("autoscaling", "v2"): [("horizontalpodautoscalers", "HorizontalPodAutoscaler", True)],
}


def resource_list(group, version):
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": f"{group}/{version}" if group else version,
            "resources": [{"name": n, "singularName": "", "namespaced": ns, "kind": k,
                           "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"]}
                          for n, k, ns in RESOURCES[(group, version)]]}


def openapi_index():
    paths = {}
    for (group, version) in RESOURCES:
        key = f"apis/{group}/{version}" if group else f"api/{version}"
        paths[key] = {"serverRelativeURL": f"/openapi/v3/{key}?hash=0"}
    return {"paths": paths}


def openapi_document(group, version):
    """Just enough OpenAPI v3 for kubectl to see that PATCH takes fieldValidation,
    so it leaves validation to the server as it does with a real cluster."""
    prefix = f"/apis/{group}/{version}" if group else f"/api/{version}"
    paths = {}
    for name, kind, namespaced in RESOURCES[(group, version)]:
        path = f"{prefix}/namespaces/{{namespace}}/{name}/{{name}}" if namespaced else f"{prefix}/{name}/{{name}}"
        gvk = {"group": group, "version": version, "kind": kind}
        parameter = {"name": "fieldValidation", "in": "query", "schema": {"type": "string", "uniqueItems": True}}
        paths[path] = {"patch": {"operationId": f"patch{kind}", "parameters": [parameter],
                                 "x-kubernetes-action": "patch", "x-kubernetes-group-version-kind": gvk,
                                 "responses": {"200": {"description": "OK"}}}}
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": "v1.32.0"}, "paths": paths,
            "components": {"schemas": {}}}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--rollout", choices=["ready", "stuck"], default="ready")
    parser.add_argument("--server-version", default="1.32", help="major.minor that /version reports")
    args = parser.parse_args()
    lock = threading.Lock()
    objects = {}

    class Handler(QuietHandler):
        send = QuietHandler.send_json

        def record(self, body=b""):
            url = urlparse(self.path)
            with lock, open(args.log, "a") as log:
                log.write(json.dumps({"method": self.command, "path": url.path, "query": parse_qs(url.query),
                                      "content_type": self.headers.get("Content-Type", ""),
                                      "user_agent": self.headers.get("User-Agent", ""),
                                      "body": body.decode(errors="replace")}) + "\n")

        def deployment(self, namespace, name):
            obj = objects.get(("deployments", namespace, name))
            if obj is None:
                return None
            obj = json.loads(json.dumps(obj))
            replicas = obj.get("spec", {}).get("replicas", 1)
            generation = obj["metadata"].get("generation", 1)
            if args.rollout == "ready":
                obj["status"] = {"observedGeneration": generation, "replicas": replicas, "updatedReplicas": replicas,
                                 "readyReplicas": replicas, "availableReplicas": replicas,
                                 "conditions": [{"type": "Available", "status": "True"},
                                                {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"}]}
            else:
                obj["status"] = {"observedGeneration": generation, "replicas": replicas, "updatedReplicas": replicas,
                                 "unavailableReplicas": replicas, "availableReplicas": 0,
                                 "conditions": [{"type": "Progressing", "status": "True", "reason": "ReplicaSetUpdated"}]}
            return obj

        def do_GET(self):
            self.record()
            url = urlparse(self.path)
            parts = url.path.strip("/").split("/")
            query = parse_qs(url.query)
            if url.path == "/api":
                return self.send(200, {"kind": "APIVersions", "versions": ["v1"],
                                       "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]})
            if url.path == "/apis":
                groups = [{"name": g, "versions": [{"groupVersion": f"{g}/{v}", "version": v}],
                           "preferredVersion": {"groupVersion": f"{g}/{v}", "version": v}} for (g, v) in RESOURCES if g]
                return self.send(200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
            if url.path == "/api/v1":
                return self.send(200, resource_list("", "v1"))
            if len(parts) == 3 and parts[0] == "apis" and (parts[1], parts[2]) in RESOURCES:
                return self.send(200, resource_list(parts[1], parts[2]))
            if url.path == "/openapi/v3":
                return self.send(200, openapi_index())
            if url.path.startswith("/openapi/v3/"):
                rest = url.path[len("/openapi/v3/"):].split("/")
                key = (rest[1], rest[2]) if rest[0] == "apis" and len(rest) == 3 else ("", rest[1]) if len(rest) == 2 else None
                if key in RESOURCES:
                    return self.send(200, openapi_document(*key))
            if url.path == "/version":
                major, minor = args.server_version.split(".")
                return self.send(200, {"major": major, "minor": minor, "gitVersion": f"v{major}.{minor}.0"})
            # /apis/apps/v1/namespaces/NS/deployments[/NAME]
            if len(parts) >= 6 and parts[-2] == "deployments" or (len(parts) == 6 and parts[-1] == "deployments"):
                namespace = parts[4]
                if parts[-1] == "deployments":
                    name = query.get("fieldSelector", [""])[0].replace("metadata.name=", "")
                    item = self.deployment(namespace, name)
                    if "watch" in query:
                        # keep the watch open without news until kubectl gives up (or the deadline)
                        self.send_response(200)
                        self.send_header("Content-Type", "application/json")
                        self.send_header("Transfer-Encoding", "chunked")
                        self.end_headers()
                        time.sleep(min(float(query.get("timeoutSeconds", ["30"])[0]), 30))
                        self.wfile.write(b"0\r\n\r\n")
                        return
                    return self.send(200, {"kind": "DeploymentList", "apiVersion": "apps/v1",
                                           "metadata": {"resourceVersion": "100"}, "items": [item] if item else []})
                item = self.deployment(namespace, parts[-1])
                if item is None:
                    return self.send(404, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound", "code": 404})
                return self.send(200, item)
            if parts[-1] == "pods":
                return self.send(200, {"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": [
                    {"metadata": {"name": "app-7d9f-abcde", "namespace": parts[3], "creationTimestamp": "2026-01-01T00:00:00Z"},
                     "spec": {"containers": [{"name": "app", "image": "x"}], "nodeName": "node-1"},
                     "status": {"phase": "Pending", "containerStatuses": [{"name": "app", "ready": False, "restartCount": 0, "image": "x", "imageID": "",
                                "state": {"waiting": {"reason": "ImagePullBackOff"}}}]}}]})
            if parts[-1] == "events":
                return self.send(200, {"kind": "EventList", "apiVersion": "v1", "metadata": {}, "items": [
                    {"metadata": {"name": "app.1", "namespace": parts[3]}, "type": "Warning", "reason": "Failed",
                     "message": "Failed to pull image: not found", "count": 3,
                     "involvedObject": {"kind": "Pod", "name": "app-7d9f-abcde", "namespace": parts[3]},
                     "firstTimestamp": "2026-01-01T00:00:00Z", "lastTimestamp": "2026-01-01T00:00:10Z"}]})
            return self.send(404, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound", "code": 404})

        def do_PATCH(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            self.record(body)
            parts = urlparse(self.path).path.strip("/").split("/")
            try:
                obj = json.loads(body)
            except ValueError:
                obj = {"metadata": {"name": parts[-1]}}
            obj.setdefault("metadata", {})
            obj["metadata"].update({"namespace": parts[-3], "uid": "uid-" + parts[-1], "generation": 1, "resourceVersion": "100"})
            with lock:
                objects[(parts[-2], parts[-3], parts[-1])] = obj
            self.send(200, obj)

        do_POST = do_PUT = do_PATCH

    serve(Handler, args.port)


if __name__ == "__main__":
    main()
