function h(e,t,s,i){let o=e.createShader(t);if(e.shaderSource(o,s),e.compileShader(o),!e.getShaderParameter(o,e.COMPILE_STATUS))throw new Error(`${i} shader: ${e.getShaderInfoLog(o)}`);return o}function l(e,t,s,i){let o=e.createProgram();if(e.attachShader(o,h(e,e.VERTEX_SHADER,t,i)),e.attachShader(o,h(e,e.FRAGMENT_SHADER,s,i)),e.linkProgram(o),!e.getProgramParameter(o,e.LINK_STATUS))throw new Error(`${i} program: ${e.getProgramInfoLog(o)}`);return o}var T=2*Math.PI*6378137,d=1852/3600,F=Math.PI/180;var c=8;var f=20,_=5,B=Math.PI/180;var r=[[0,[1,.55,.1]],[5e3,[1,.85,.1]],[1e4,[.55,.9,.2]],[2e4,[.15,.85,.55]],[3e4,[.2,.6,1]],[4e4,[.8,.4,1]]],p=[.72,.72,.72];function m(){let e=s=>s.toFixed(3),t=`vec3 altColor(float a) {
  if (a < -9999.0) return vec3(${p.map(e)});
`;t+=`  if (a <= ${e(r[0][0])}) return vec3(${r[0][1].map(e)});
`;for(let s=1;s<r.length;s++){let[i,o]=r[s-1],[a,n]=r[s];t+=`  if (a < ${e(a)}) return mix(vec3(${o.map(e)}), vec3(${n.map(e)}), (a - ${e(i)}) / ${e(a-i)});
`}return`${t}  return vec3(${r[r.length-1][1].map(e)});
}
`}var A=`#version 300 es
precision highp float;
layout(location = 0) in vec2 a_corner;
layout(location = 1) in vec4 a_pos_vel;
layout(location = 2) in vec4 a_misc;        // t_ref, heading, alt_ft, flags
uniform mat4 u_matrix;
uniform float u_now;
uniform vec2 u_px_to_clip;
uniform float u_size_px;
out vec2 v_uv;
out vec3 v_color;
out float v_alpha;
flat out int v_flags;
${m()}
void main() {
  float age = u_now - a_misc.x;
  float dt = clamp(age, 0.0, ${f.toFixed(1)});
  vec2 p = a_pos_vel.xy + a_pos_vel.zw * dt;
  vec4 c = u_matrix * vec4(p, 0.0, 1.0);
  int flags = int(a_misc.w + 0.5);
  float size = u_size_px * (((flags & 2) != 0) ? 1.5 : 1.0);
  float h = a_misc.y;
  float sh = sin(h);
  float ch = cos(h);
  vec2 r = vec2(a_corner.x * ch + a_corner.y * sh, -a_corner.x * sh + a_corner.y * ch);
  c.xy += r * size * u_px_to_clip * c.w;
  gl_Position = c;
  v_uv = a_corner;
  v_color = altColor(a_misc.z);
  v_alpha = age > ${_.toFixed(1)} ? 0.45 : 1.0;
  v_flags = flags;
}`,v=`#version 300 es
precision mediump float;
in vec2 v_uv;
in vec3 v_color;
in float v_alpha;
flat in int v_flags;
out vec4 o_color;
// Signed distance (positive inside) to the line through a and b, inside on the left.
float edge(vec2 p, vec2 a, vec2 b) {
  vec2 d = normalize(b - a);
  vec2 q = p - a;
  return d.x * q.y - d.y * q.x;
}
void main() {
  vec2 p = v_uv;
  float d;
  if ((v_flags & 4) != 0) {
    d = 0.45 - length(p);                                   // no heading: a dot
  } else {
    vec2 nose = vec2(0.0, 1.0);
    vec2 left = vec2(-0.8, -0.85);
    vec2 right = vec2(0.8, -0.85);
    vec2 notch = vec2(0.0, -0.35);
    float body = min(min(edge(p, left, right), edge(p, right, nose)), edge(p, nose, left));
    // Above the roof left-notch-right (a union of two half-planes): the notch cut out.
    float cut = max(edge(p, left, notch), edge(p, notch, right));
    d = min(body, cut);
  }
  if (d < 0.0) discard;
  vec3 col = v_color;
  float a = v_alpha;
  if (d < 0.12) {
    col = vec3(0.05);                                       // dark outline for contrast
  } else if ((v_flags & 1) != 0 && d > 0.24) {
    discard;                                                // coasting: hollow
  }
  if ((v_flags & 2) != 0 && d < 0.12) col = vec3(1.0);      // selected: white outline
  o_color = vec4(col * a, a);                               // premultiplied alpha
}`,u=class{constructor(t){this.gl=t;let s=l(t,A,v,"aircraft");this.prog=s,this.u={};for(let o of["u_matrix","u_now","u_px_to_clip","u_size_px"])this.u[o]=t.getUniformLocation(s,o);this.vao=t.createVertexArray(),t.bindVertexArray(this.vao);let i=new Float32Array([-1,-1,1,-1,1,1,-1,-1,1,1,-1,1]);this.cornerBuf=t.createBuffer(),t.bindBuffer(t.ARRAY_BUFFER,this.cornerBuf),t.bufferData(t.ARRAY_BUFFER,i,t.STATIC_DRAW),t.enableVertexAttribArray(0),t.vertexAttribPointer(0,2,t.FLOAT,!1,8,0),this.instBuf=t.createBuffer(),this.instCapacity=0,t.bindBuffer(t.ARRAY_BUFFER,this.instBuf),t.enableVertexAttribArray(1),t.vertexAttribPointer(1,4,t.FLOAT,!1,c*4,0),t.vertexAttribDivisor(1,1),t.enableVertexAttribArray(2),t.vertexAttribPointer(2,4,t.FLOAT,!1,c*4,16),t.vertexAttribDivisor(2,1),t.bindVertexArray(null),this.n=0}upload(t,s){let i=this.gl;i.bindBuffer(i.ARRAY_BUFFER,this.instBuf),t.length>this.instCapacity&&(i.bufferData(i.ARRAY_BUFFER,t.byteLength,i.DYNAMIC_DRAW),this.instCapacity=t.length),s>0&&i.bufferSubData(i.ARRAY_BUFFER,0,t,0,s*c),this.n=s}draw(t,s,i,o,a){if(this.n===0)return;let n=this.gl;n.useProgram(this.prog),n.uniformMatrix4fv(this.u.u_matrix,!1,t),n.uniform1f(this.u.u_now,s),n.uniform2f(this.u.u_px_to_clip,2/i,2/o),n.uniform1f(this.u.u_size_px,a),n.bindVertexArray(this.vao),n.enable(n.BLEND),n.blendFunc(n.ONE,n.ONE_MINUS_SRC_ALPHA),n.disable(n.DEPTH_TEST),n.drawArraysInstanced(n.TRIANGLES,0,6,this.n),n.bindVertexArray(null)}};export{r as ALT_STOPS,u as AircraftRenderer,p as UNKNOWN_ALT_RGB};
